// All user-visible strings. Chinese (zh-CN) is the default; English alongside.
// Other modules call t(key, params) and never hard-code Chinese text.

const STORAGE_KEY = 'baogong.lang';
export const LANGS = ['zh-CN', 'en'];

const STRINGS = {
  'zh-CN': {
    'app.name': '保供',
    'app.title': '保供 · 小区团购',
    'lang.toggle': 'English',
    'lang.toggle_aria': 'Switch to English（切换到英文）',
    'nav.label': '主菜单',
    'nav.order': '订购',
    'nav.orders': '我的订单',
    'loading': '正在加载…',
    'msg.close': '关闭提示',
    'flat': '{flat}',

    'start.title': '欢迎使用保供',
    'start.body': '请扫描小区门口的二维码加入',
    'start.hint': '二维码贴在小区门口，也会发在业主群里。扫码后登记楼栋和房号，就可以订购米、油、蔬菜。',

    'start.staff_link': '工作人员：已登录为{role}',

    'role.admin': '管理员',
    'role.liaison': '社区联络人',
    'role.volunteer': '志愿者',
    'role.supplier': '供应商',
    'role.reviewer': '审核员',
    'role.gate_officer': '门岗消杀员',
    'role.supervisor': '督查员',
    'role.supply_point': '保供网点',
    // The supply chain's doors on #/staff (views/staff.js); their screens' strings are in strings/supply.js.
    'sup.doors': '保供',
    // The gate's doors on #/staff (strings/sites.js holds the gate screens' own strings).
    'gs.doors': '门岗',
    'gs.door_gate': '门岗登记',
    'gs.door_gate_hint': '核对车牌、消杀、静置计时、放行',
    'gs.door_review': '车辆审核',
    'gs.door_review_hint': '查看报备的车辆和证件，通过或退回',
    'gs.door_log': '督查记录',
    'gs.door_log_hint': '每天的进出记录、异常情况、导出表格',
    'gs.door_deliveries': '车辆报备',
    'gs.door_deliveries_hint': '提前一天登记送货车辆和随车人员',
    'gs.door_site': '门岗管理',
    'gs.door_site_hint': '卸货点、消杀设置、邀请审核员和门岗人员',
    'sup.door': '保供看板',
    'sup.door_hint': '需求汇总、调拨、台账、结算、网点和价格库存预警',
    'mk.door': '价格库存日报',
    'mk.door_hint': '每天报一次今天的价格、库存和销量',
    'dm.door': '需求上报',
    'dm.door_hint': '把本小区今天需要的物资报给街道',
    'lg.door': '收发台账',
    'lg.door_hint': '街道调拨来的物资：收货、分发、更正',

    'staff.title': '工作人员登录',
    'staff.signed_in': '已登录',
    'staff.as': '您已作为工作人员登录，身份是：',
    'staff.scope': '管辖范围编号',
    'staff.valid_until': '登录有效期至',
    'staff.signout': '退出',
    'staff.signed_out': '已退出工作人员登录。',
    'staff.link_invalid': '这个登录链接无效，请向管理员重新索取。',
    'staff.link_expired': '这个登录链接已过期，请向管理员重新索取。',

    'invite.title': '工作人员邀请',
    'invite.body': '您收到了保供的工作人员邀请。接受后，这部手机就以工作人员身份登录。每个邀请只能用一次。',
    'invite.replaces': '这部手机现在以“{role}”身份登录。接受邀请后将改用新的身份。',
    'invite.accept': '接受邀请',
    'invite.accepting': '正在提交…',
    'invite.accepted': '已接受邀请，登录成功。',
    'invite.not_found': '邀请码无效，请向邀请您的人重新索取。',
    'invite.used': '这个邀请已被使用。每个邀请只能用一次，请向邀请您的人重新索取。',
    'invite.expired': '这个邀请已过期，请向邀请您的人重新索取。',

    'join.title': '登记您家的房号',
    'join.subtitle': '登记一次就好，以后打开就能直接订购。',
    'join.building': '楼栋',
    'join.unit': '单元',
    'join.room': '房号',
    'join.room_hint': '例如 502',
    'join.phone': '手机号',
    'join.phone_hint': '11 位手机号，送货时联系您',
    'join.name': '姓名（可以不填）',
    'join.choose': '请选择',
    'join.submit': '登记，开始订购',
    'join.submitting': '正在提交…',
    'join.already': '这部手机已登记：{flat}。如果要换房号，可以重新登记。',
    'join.pickup_points': '取货点',
    'join.done': '登记成功！现在可以订购了。',

    'err.required': '请填写这一项',
    'err.choose': '请选择一项',
    'err.phone': '请填写 11 位手机号',
    'err.form': '有内容需要修改，请看标红的地方',
    'err.network': '网络不通，请等信号好一些再试',
    'err.server': '服务器忙，请稍后再试',
    'err.unknown': '出错了，请稍后再试',
    'err.session': '登记已失效，请重新扫描小区门口的二维码',
    'err.not_found': '页面不存在',

    'rounds.title': '订购',
    'rounds.none': '现在没有可以订购的商品，请晚些再来看看。',
    'rounds.supplier': '供应商',
    'rounds.opens_at': '开始订购',
    'rounds.closes_at': '截止下单',
    'rounds.payment_deadline': '付款截止',
    'rounds.status.open': '正在订购',
    'rounds.status.upcoming': '即将开始',
    'rounds.status.closed': '已截止',
    'rounds.not_orderable': '现在不能下单',
    'rounds.stale': '网络不通。下面是 {time} 保存的信息，库存可能已变化。',
    'rounds.adjusted': '库存有变化，已帮您调整数量，请再看一下。',

    'bundle.price_unit': '/份',
    'bundle.stock_left': '剩余 {n} 份',
    'bundle.limit': '每户限购 {n} 份',
    'bundle.sold_out': '已售完',
    'bundle.items': '包含',
    'qty.label': '数量',
    'qty.minus': '减少一份：{name}',
    'qty.plus': '增加一份：{name}',
    'qty.max': '最多只能订 {n} 份',

    'cart.total': '合计',
    'cart.count': '共 {n} 份',
    'cart.submit': '提交订单',
    'cart.submitting': '正在提交…',
    'cart.retry': '再试一次',
    'cart.discard': '不要这个订单了',
    'cart.discard_confirm': '确定不要这个订单吗？\n如果刚才其实已经提交成功，它仍会出现在“我的订单”里。',
    'cart.one_round': '一次只能提交一个团购的订单。请先提交“{name}”的订单。',
    'cart.empty': '请先按“+”选择数量',
    'cart.pending': '订单还没发出去（信号不好）。信号恢复后会自动再发，不会重复下单。',

    'order.success': '下单成功！请按时付款，取货码在下面。',
    'order.sent_later': '刚才没发出去的订单，现在已经提交成功。',

    'orders.title': '我的订单',
    'orders.none': '还没有订单。',
    'orders.pending_title': '等待发送的订单',
    'orders.pickup_code': '取货码',
    'orders.pickup_hint': '取货时把这个号码给志愿者看',
    'orders.total': '合计',
    'orders.pay_by': '付款截止',
    'orders.payment_qr': '付款码',
    'orders.open_payment': '打开付款码',
    'orders.pickup_slot': '取货时间',
    'orders.pickup_point': '取货地点',
    'orders.placed_at': '下单时间',
    'orders.notices': '通知',
    'orders.line': '{name} × {qty}',
    'orders.stale': '网络不通。下面是 {time} 保存的信息。',
    'orders.cancel': '取消订单',
    'orders.cancel_ask': '确定取消这个订单吗？',
    'orders.cancel_paid_hint': '如果已经付了款，请联系供应商退款。',
    'orders.cancel_confirm': '确定取消',
    'orders.cancel_keep': '不取消',
    'orders.cancelling': '正在取消…',
    'orders.cancelled': '订单已取消',

    'status.placed': '已下单',
    'status.payment_claimed': '已付款待确认',
    'status.paid': '已确认',
    'status.packed': '已打包',
    'status.at_gate': '已到小区门口',
    'status.picked_up': '已取货',
    'status.cancelled': '已取消',
    'status.expired': '已过期',

    'item': '{name} {qty} {unit}',
    'list_sep': '；',
  },
  en: {
    'app.name': 'Baogong',
    'app.title': 'Baogong · community supplies',
    'lang.toggle': '中文',
    'lang.toggle_aria': '切换到中文 (Switch to Chinese)',
    'nav.label': 'Main menu',
    'nav.order': 'Order',
    'nav.orders': 'My orders',
    'loading': 'Loading…',
    'msg.close': 'Close message',
    'flat': '{flat}',

    'start.title': 'Welcome to Baogong',
    'start.body': 'Scan the QR code at your community gate to join',
    'start.hint': 'The QR code is posted at the gate and shared in the residents’ group chat. After scanning, register your building and room, then order rice, oil and vegetables.',

    'start.staff_link': 'Staff: signed in as {role}',

    'role.admin': 'Administrator',
    'role.liaison': 'Community liaison',
    'role.volunteer': 'Volunteer',
    'role.supplier': 'Supplier',
    'role.reviewer': 'Vehicle reviewer',
    'role.gate_officer': 'Gate officer',
    'role.supervisor': 'Supervisor',
    'role.supply_point': 'Supply point',
    'sup.doors': 'Supply',
    'gs.doors': 'Gate',
    'gs.door_gate': 'Gate',
    'gs.door_gate_hint': 'Check plates, disinfect, time the rest, release',
    'gs.door_review': 'Vehicle review',
    'gs.door_review_hint': 'Registered vehicles and their documents: approve or refuse',
    'gs.door_log': 'Supervision log',
    'gs.door_log_hint': 'Each day’s events and deviations; export a spreadsheet',
    'gs.door_deliveries': 'Vehicle registration',
    'gs.door_deliveries_hint': 'Register delivery vehicles and their crew a day ahead',
    'gs.door_site': 'Gate settings',
    'gs.door_site_hint': 'Unloading points, disinfection, invite reviewers and gate staff',
    'sup.door': 'Supply dashboard',
    'sup.door_hint': 'Demand, allocations, ledgers, settlement, supply points, price and stock alerts',
    'mk.door': 'Daily price & stock',
    'mk.door_hint': 'Report today’s prices, stock and sales, once a day',
    'dm.door': 'Demand report',
    'dm.door_hint': 'Tell the sub-district what this community needs today',
    'lg.door': 'Goods ledger',
    'lg.door_hint': 'Goods allocated by the sub-district: receive, give out, correct',

    'staff.title': 'Staff sign-in',
    'staff.signed_in': 'Signed in',
    'staff.as': 'You are signed in as staff. Your role:',
    'staff.scope': 'Scope ID',
    'staff.valid_until': 'Signed in until',
    'staff.signout': 'Sign out',
    'staff.signed_out': 'You have signed out of staff.',
    'staff.link_invalid': 'This sign-in link is not valid. Please ask the administrator for a new one.',
    'staff.link_expired': 'This sign-in link has expired. Please ask the administrator for a new one.',

    'invite.title': 'Staff invite',
    'invite.body': 'You have been invited to join Baogong as staff. Once you accept, this phone is signed in as staff. Each invite works only once.',
    'invite.replaces': 'This phone is signed in as “{role}”. Accepting will switch to the new role.',
    'invite.accept': 'Accept invite',
    'invite.accepting': 'Sending…',
    'invite.accepted': 'Invite accepted. You are signed in.',
    'invite.not_found': 'This invite code is not valid. Please ask the person who invited you for a new one.',
    'invite.used': 'This invite has already been used. Each invite works only once; please ask for a new one.',
    'invite.expired': 'This invite has expired. Please ask the person who invited you for a new one.',

    'join.title': 'Register your home',
    'join.subtitle': 'You only need to do this once.',
    'join.building': 'Building',
    'join.unit': 'Unit',
    'join.room': 'Room',
    'join.room_hint': 'e.g. 502',
    'join.phone': 'Mobile number',
    'join.phone_hint': '11 digits, used to reach you about delivery',
    'join.name': 'Name (optional)',
    'join.choose': 'Please choose',
    'join.submit': 'Register and start ordering',
    'join.submitting': 'Sending…',
    'join.already': 'This phone is registered to {flat}. Register again to change it.',
    'join.pickup_points': 'Pickup points',
    'join.done': 'Registered! You can order now.',

    'err.required': 'Please fill this in',
    'err.choose': 'Please choose one',
    'err.phone': 'Enter an 11-digit mobile number',
    'err.form': 'Please correct the fields marked in red',
    'err.network': 'No connection. Please try again when the signal is better.',
    'err.server': 'The server is busy. Please try again later.',
    'err.unknown': 'Something went wrong. Please try again later.',
    'err.session': 'Your registration is no longer valid. Please scan the QR code at the gate again.',
    'err.not_found': 'Page not found',

    'rounds.title': 'Order',
    'rounds.none': 'Nothing to order right now. Please check again later.',
    'rounds.supplier': 'Supplier',
    'rounds.opens_at': 'Opens',
    'rounds.closes_at': 'Order by',
    'rounds.payment_deadline': 'Pay by',
    'rounds.status.open': 'Open',
    'rounds.status.upcoming': 'Coming soon',
    'rounds.status.closed': 'Closed',
    'rounds.not_orderable': 'Not open for orders',
    'rounds.stale': 'No connection. Showing information saved at {time}; stock may have changed.',
    'rounds.adjusted': 'Stock has changed and your quantities were adjusted. Please check them.',

    'bundle.price_unit': ' each',
    'bundle.stock_left': '{n} left',
    'bundle.limit': 'Limit {n} per household',
    'bundle.sold_out': 'Sold out',
    'bundle.items': 'Contains',
    'qty.label': 'Quantity',
    'qty.minus': 'One less: {name}',
    'qty.plus': 'One more: {name}',
    'qty.max': 'You can order at most {n}',

    'cart.total': 'Total',
    'cart.count': '{n} in total',
    'cart.submit': 'Place order',
    'cart.submitting': 'Placing order…',
    'cart.retry': 'Try again',
    'cart.discard': 'Discard this order',
    'cart.discard_confirm': 'Discard this order?\nIf it already went through, it will still show in My orders.',
    'cart.one_round': 'You can order from one round at a time. Please place the order for “{name}” first.',
    'cart.empty': 'Tap “+” to choose a quantity first',
    'cart.pending': 'Your order has not been sent yet (weak signal). It will be sent automatically when the signal returns, and it will not be ordered twice.',

    'order.success': 'Order placed! Please pay on time. Your pickup code is below.',
    'order.sent_later': 'The order that could not be sent earlier has now been placed.',

    'orders.title': 'My orders',
    'orders.none': 'No orders yet.',
    'orders.pending_title': 'Waiting to be sent',
    'orders.pickup_code': 'Pickup code',
    'orders.pickup_hint': 'Show this number to the volunteer at pickup',
    'orders.total': 'Total',
    'orders.pay_by': 'Pay by',
    'orders.payment_qr': 'Payment QR',
    'orders.open_payment': 'Open payment QR',
    'orders.pickup_slot': 'Pickup time',
    'orders.pickup_point': 'Pickup point',
    'orders.placed_at': 'Ordered',
    'orders.notices': 'Notices',
    'orders.line': '{name} × {qty}',
    'orders.stale': 'No connection. Showing information saved at {time}.',
    'orders.cancel': 'Cancel order',
    'orders.cancel_ask': 'Cancel this order?',
    'orders.cancel_paid_hint': 'If you have already paid, ask the supplier for a refund.',
    'orders.cancel_confirm': 'Yes, cancel it',
    'orders.cancel_keep': 'No, keep it',
    'orders.cancelling': 'Cancelling…',
    'orders.cancelled': 'Order cancelled',

    'status.placed': 'Placed',
    'status.payment_claimed': 'Paid, to be confirmed',
    'status.paid': 'Confirmed',
    'status.packed': 'Packed',
    'status.at_gate': 'At the community gate',
    'status.picked_up': 'Picked up',
    'status.cancelled': 'Cancelled',
    'status.expired': 'Expired',

    'item': '{name} {qty} {unit}',
    'list_sep': '; ',
  },
};

/**
 * Add a feature's strings: extend({'zh-CN': {...}, en: {...}}). Each feature
 * keeps its strings in frontend/js/strings/<feature>.js, which calls this on import.
 */
export function extend(more) {
  for (const l of LANGS) Object.assign(STRINGS[l], (more && more[l]) || {});
}

function load() {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    if (LANGS.includes(v)) return v;
  } catch (e) { /* storage blocked: use default */ }
  return 'zh-CN';
}

let lang = load();
const listeners = new Set();

export function getLang() { return lang; }

/** BCP 47 locale for Intl formatting. */
export function locale() { return lang === 'en' ? 'en-GB' : 'zh-CN'; }

export function setLang(next) {
  if (!LANGS.includes(next) || next === lang) return;
  lang = next;
  try { localStorage.setItem(STORAGE_KEY, next); } catch (e) { /* ignore */ }
  document.documentElement.lang = next;
  listeners.forEach((fn) => fn(next));
}

export function toggleLang() { setLang(lang === 'en' ? 'zh-CN' : 'en'); }

export function onLangChange(fn) { listeners.add(fn); }

/** Look up a string; `{name}` placeholders are filled from params. */
export function t(key, params) {
  let s = STRINGS[lang][key];
  if (s === undefined) s = STRINGS['zh-CN'][key];
  if (s === undefined) return key;
  if (params) {
    s = s.replace(/\{(\w+)\}/g, (m, k) => (params[k] === undefined || params[k] === null ? m : String(params[k])));
  }
  return s;
}

/** Pick the right language from a server pair (message / message_en). */
export function pick(zh, en) {
  if (lang === 'en' && en) return en;
  return zh || en || '';
}
