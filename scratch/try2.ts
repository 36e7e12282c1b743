import { Client } from 'ldapts';
import { readFileSync } from 'node:fs';
const F = JSON.parse(readFileSync('/tmp/rolemap-samba/test-0af91e49bb78/facts.json','utf8'));
const c = new Client({ url: F.ldapsUrl, timeout: 5000, tlsOptions: { ca: readFileSync(F.caFile) } });
await c.bind(F.adminUpn, F.adminPassword);
console.log('bound');
const r = await c.search('', { scope: 'base', attributes: ['namingContexts'] });
console.log(r.searchEntries);
let n = 0;
for await (const p of c.searchPaginated(F.userBase, { scope: 'sub', filter: '(&(objectCategory=person)(objectClass=user))', attributes: ['sAMAccountName'], paged: { pageSize: 50 } })) { n++; if (n < 3) console.log(p.searchEntries.length, p.searchReferences); }
console.log('pages', n);
await c.unbind();
