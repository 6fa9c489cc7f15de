// Placeholder: replaced by the gate screens being written now.
import { h, clear } from '../ui.js';
export async function reviewView(root) { clear(root); root.appendChild(h('p', null, '…')); }
