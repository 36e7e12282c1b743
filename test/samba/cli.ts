/** `node --import tsx test/samba/cli.ts start|stop|status [test|bench]`: the Samba fixture by hand. */
import { benchDirectory, testDirectory } from './fixture-data.js';
import { directoryFor, ensureSambaInstalled, prepare, runningPid, startSamba, stopSamba } from './samba-dc.js';

const [cmd, which = 'test'] = process.argv.slice(2);
const def = which === 'bench' ? benchDirectory() : testDirectory();
if (cmd === 'start') {
  ensureSambaInstalled();
  const facts = prepare(def);
  await startSamba(facts);
  console.log(JSON.stringify(facts, null, 2));
} else if (cmd === 'stop') {
  await stopSamba(directoryFor(def));
} else if (cmd === 'status') {
  const dir = directoryFor(def);
  const pid = runningPid(dir);
  console.log(`${dir}: ${pid !== undefined ? `running (pid ${pid})` : 'stopped'}`);
} else {
  console.error('usage: cli.ts start|stop|status [test|bench]');
  process.exitCode = 2;
}
