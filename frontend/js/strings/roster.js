// Strings of the liaison's console (roster, special households, assisted orders). See i18n.extend.
import { extend } from '../i18n.js';

extend({
  'zh-CN': {},
  en: {},
});
