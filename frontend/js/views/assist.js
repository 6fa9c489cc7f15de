// #/staff/households/<flat_ref>/order: an order placed by the liaison for a household (代下单).
import '../strings/roster.js';
import { h, clear } from '../ui.js';

export async function assistView(root) {
  clear(root);
  root.appendChild(h('p', null, '…'));
}
