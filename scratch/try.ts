import { LdapDirectorySource } from '/work/wt/ldap/src/adapters/directory/ldap/ldap-source.js';
const F = JSON.parse((await import('node:fs')).readFileSync('/tmp/rolemap-samba/test-0af91e49bb78/facts.json','utf8'));
for (const nesting of ['in-chain','client'] as const) {
const src = new LdapDirectorySource({ url: F.ldapsUrl, caFile: F.caFile, bindDn: F.adminUpn, bindPassword: F.adminPassword, userBase: F.userBase, groupBase: F.groupBase, nesting, pageSize: 50, rangeSize: 100, timeoutMs: 5000, observer: { onPage: (e) => { if (e.page<3) console.log('page', e.what, e.page, e.entries) }, onRange: (e) => console.log('range', e.dn, e.range) } });
const t = performance.now();
const snap = await src.read({ refs: [], namePatterns: ['.*'] });
console.log(nesting, performance.now()-t, snap.users.length, src.lastStats);
for (const g of snap.groups) console.log(g.name, g.members.length);
console.log(snap.users.filter(u=>u.disabled||u.expiresAt).map(u=>[u.sAMAccountName,u.disabled,u.expiresAt]));
console.log(snap.users.find(u=>u.sAMAccountName.startsWith('renee')));
}
