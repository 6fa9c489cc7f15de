// Placeholder: replaced by the gate screens being written now.
import { h, clear } from '../ui.js';
export async function deliveriesView(root) { clear(root); root.appendChild(h('p', null, '…')); }
export async function newDeliveryView(root) { clear(root); root.appendChild(h('p', null, '…')); }
