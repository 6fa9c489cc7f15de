// #/staff/roster and #/staff/households/<flat_ref>: the liaison's roster of the community.
import '../strings/roster.js';
import { h, clear } from '../ui.js';

export async function rosterView(root) {
  clear(root);
  root.appendChild(h('p', null, '…'));
}

export async function staffHouseholdView(root) {
  clear(root);
  root.appendChild(h('p', null, '…'));
}
