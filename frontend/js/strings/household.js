// Strings of the resident's household screens (members, approval). See i18n.extend.
import { extend } from '../i18n.js';

extend({
  'zh-CN': {},
  en: {},
});
