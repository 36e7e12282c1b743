import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
const B = 'DC=example,DC=com';
const P = `OU=People,${B}`, G = `OU=Groups,${B}`;
const guid = (seed: string) => { const h = createHash('sha256').update(seed).digest().subarray(0, 16); h[7] = (h[7]! & 0x0f) | 0x40; h[8] = (h[8]! & 0x3f) | 0x80; return Buffer.from(h); };
const fold = (line: string) => { const out: string[] = []; let s = line; out.push(s.slice(0, 76)); s = s.slice(76); while (s.length) { out.push(' ' + s.slice(0, 75)); s = s.slice(75); } return out.join('\n'); };
const attr = (k: string, v: string) => fold(/^[\x20-\x7e]*$/.test(v) && !/^[ :<]/.test(v) ? `${k}: ${v}` : `${k}:: ${Buffer.from(v).toString('base64')}`);
const users: [string, string, string, number?, string?][] = [
  ['Zoë', 'Ångström', 'zoe.angstrom'], ['Jürgen', 'Müller', 'juergen.mueller'], ['François', 'Lefèvre', 'francois.lefevre'],
  ['Søren', 'Kierkegård', 'soren.kierkegard'], ['Łukasz', 'Żółtowski', 'lukasz.zoltowski'], ['Nuño', 'Peña', 'nuno.pena'],
  ['山田', '太郎', 'yamada.taro'], ['Анна', 'Иванова', 'anna.ivanova'], ['Γιώργος', 'Παπαδόπουλος', 'giorgos.papadopoulos'],
  ['Ngọc', 'Nguyễn', 'ngoc.nguyen'], ['Björk', 'Guðmundsdóttir', 'bjork.gudmundsdottir'], ['Ayşe', 'Yılmaz', 'ayse.yilmaz'],
  ['Siân', 'Llŷr', 'sian.llyr'], ['Ada', 'Lovelace', 'ada.lovelace'],
  ['Dora', 'Departed', 'dora.departed', 514],
  ['Ernő', 'Ended', 'erno.ended', 512, '133801632000000000'],
];
const dn = (u: (typeof users)[number]) => `CN=${u[0]} ${u[1]},${P}`;
const out: string[] = ['# rolemap demo directory: an ldapsearch -LLL style export of a small AD domain (example.com).',
  '# objectGUIDs are base64 (binary), as AD exports them. dora.departed is disabled; erno.ended expired on 2025-01-01.', ''];
for (const u of users) {
  out.push([attr('dn', dn(u)), 'objectClass: top', 'objectClass: person', 'objectClass: organizationalPerson', 'objectClass: user',
    attr('cn', `${u[0]} ${u[1]}`), attr('givenName', u[0]), attr('sn', u[1]), attr('displayName', `${u[0]} ${u[1]}`),
    `sAMAccountName: ${u[2]}`, `userPrincipalName: ${u[2]}@example.com`, `mail: ${u[2]}@example.com`,
    `userAccountControl: ${u[3] ?? 512}`, `accountExpires: ${u[4] ?? '9223372036854775807'}`, 'whenChanged: 20260901120000.0Z',
    `objectGUID:: ${guid(u[2]).toString('base64')}`].join('\n'), '');
}
const m = (...sams: string[]) => sams.map((s) => attr('member', dn(users.find((u) => u[2] === s)!)));
const groups: [string, string[]][] = [
  ['Platform-Admins', m('zoe.angstrom', 'juergen.mueller', 'dora.departed')],
  ['Data-Engineers', m('nuno.pena', 'yamada.taro')],
  ['Data-Analysts', [attr('member', `CN=Data-Engineers,${G}`), ...m('anna.ivanova', 'giorgos.papadopoulos', 'ngoc.nguyen', 'erno.ended')]],
  ['Auditors', m('bjork.gudmundsdottir', 'ayse.yilmaz')],
  ['AWS-111111111111-ReadOnly', [attr('member', `CN=Data-Analysts,${G}`), attr('member', `CN=Auditors,${G}`), ...m('sian.llyr')]],
  ['AWS-111111111111-Admin', [attr('member', `CN=Platform-Admins,${G}`)]],
  ['AWS-222222222222-ReadOnly', m('francois.lefevre', 'soren.kierkegard', 'lukasz.zoltowski', 'ada.lovelace')],
];
for (const [name, members] of groups) {
  out.push([attr('dn', `CN=${name},${G}`), 'objectClass: top', 'objectClass: group', `cn: ${name}`, `sAMAccountName: ${name}`,
    ...members, `objectGUID:: ${guid(name).toString('base64')}`].join('\n'), '');
}
writeFileSync('config/demo/directory.ldif', out.join('\n'));
