// #/household: the flat's phones; members approve or remove them.
import '../strings/household.js';
import { h, clear } from '../ui.js';

export async function householdView(root) {
  clear(root);
  root.appendChild(h('p', null, '…'));
}
