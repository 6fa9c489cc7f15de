// Placeholder: replaced by the supply-chain screens being written now.
import { h, clear } from '../ui.js';
export async function supplyDashboardView(root) { clear(root); root.appendChild(h('p', null, '…')); }
