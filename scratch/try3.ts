import { Client } from 'ldapts';
import { readFileSync } from 'node:fs';
const F = JSON.parse(readFileSync('/tmp/rolemap-samba/test-0af91e49bb78/facts.json','utf8'));
const c = new Client({ url: F.ldapsUrl, timeout: 30000, tlsOptions: { ca: readFileSync(F.caFile) } });
await c.bind(F.adminUpn, F.adminPassword);
for (const g of ['Nest-Top','Big-2000','Empty-Group']) {
 const t = performance.now();
 const r = await c.search(F.userBase, { scope: 'sub', filter: `(&(objectCategory=person)(objectClass=user)(memberOf:1.2.840.113556.1.4.1941:=CN=${g},${F.groupBase}))`, attributes: ['objectGUID'], paged: { pageSize: 500 } });
 console.log(g, r.searchEntries.length, Math.round(performance.now()-t));
 const t2 = performance.now();
 const r2 = await c.search(F.userBase, { scope: 'sub', filter: `(&(objectCategory=person)(objectClass=user)(memberOf:1.2.840.113556.1.4.1941:=CN=${g},${F.groupBase}))`, attributes: ['objectGUID'] });
 console.log('unpaged', g, r2.searchEntries.length, Math.round(performance.now()-t2));
}
await c.unbind();
