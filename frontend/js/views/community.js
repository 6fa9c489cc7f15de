// #/staff/community: the community's distribution point, information officer and settings.
import '../strings/roster.js';
import { h, clear } from '../ui.js';

export async function communityView(root) {
  clear(root);
  root.appendChild(h('p', null, '…'));
}
