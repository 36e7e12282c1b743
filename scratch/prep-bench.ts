import { benchDirectory } from '../test/samba/fixture-data.js';
import { prepare } from '../test/samba/samba-dc.js';
const t = performance.now();
prepare(benchDirectory());
console.log('prepared in', Math.round(performance.now() - t), 'ms');
