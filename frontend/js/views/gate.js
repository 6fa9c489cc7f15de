// Placeholder: replaced by the gate screens being written now.
import { h, clear } from '../ui.js';
export async function gateView(root) { clear(root); root.appendChild(h('p', null, '…')); }
export async function gateDeliveryView(root) { clear(root); root.appendChild(h('p', null, '…')); }
