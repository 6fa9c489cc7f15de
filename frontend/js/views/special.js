// #/staff/special: special households (特殊人群) and their check-ins, most overdue first.
import '../strings/roster.js';
import { h, clear } from '../ui.js';

export async function specialView(root) {
  clear(root);
  root.appendChild(h('p', null, '…'));
}
