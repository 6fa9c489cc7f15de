// Placeholder: replaced by the gate screens being written now.
import { h, clear } from '../ui.js';
export async function gateLogView(root) { clear(root); root.appendChild(h('p', null, '…')); }
