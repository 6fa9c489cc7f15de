// Placeholder: replaced by the supply-chain screens being written now.
import { h, clear } from '../ui.js';
export async function marketReportView(root) { clear(root); root.appendChild(h('p', null, '…')); }
