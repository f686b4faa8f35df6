// Preloaded into the Next.js server (NODE_OPTIONS=--require): its server-side
// renders call NEXT_PUBLIC_API_BASE_URL, whose host (local.wego.monster, the
// frontend's cookie domain needs a *.wego.monster name) must reach moim-local on
// loopback without editing /etc/hosts. The browser gets the same mapping from
// Chromium's --host-resolver-rules.
'use strict';
const dns = require('node:dns');

const hosts = new Set((process.env.E2E_LOOPBACK_HOSTS || 'local.wego.monster').split(','));
const realLookup = dns.lookup;

dns.lookup = function lookup(hostname, options, callback) {
  if (!hosts.has(hostname)) return realLookup.apply(this, arguments);
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  const all = typeof options === 'object' && options !== null && options.all;
  process.nextTick(() =>
    all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4),
  );
};
const realPromisesLookup = dns.promises.lookup;
dns.promises.lookup = function lookup(hostname, options) {
  if (!hosts.has(hostname)) return realPromisesLookup.apply(this, arguments);
  const loopback = { address: '127.0.0.1', family: 4 };
  return Promise.resolve(options && options.all ? [loopback] : loopback);
};
