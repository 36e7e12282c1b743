/**
 * The directories the Samba fixture loads: `testDirectory()` for the integration tests (small, every
 * AD corner the issue lists) and `benchDirectory()` for bench/directory.bench.ts (10,000 users,
 * 1,000 groups). Plain data: the same definition drives the LDIF that ldbadd loads and the
 * assertions of the tests.
 */
import { encodeAccountExpires } from '../../src/adapters/directory/ad-attributes.js';
import { BASE_DN, type DirectoryDefinition, type FixtureGroup, type FixtureUser } from './samba-dc.js';

export const PEOPLE = `OU=People,${BASE_DN}`;
export const BULK = `OU=Bulk,${PEOPLE}`;
export const GROUPS = `OU=Groups,${BASE_DN}`;
export const OTHER_GROUPS = `OU=Other Groups,${BASE_DN}`;
export const OUTSIDE = `OU=Outside,${BASE_DN}`;
export const SERVICE = `OU=Service,${BASE_DN}`;

/** A password that binds: for the service account and the bind-error accounts. */
export const USER_PASSWORD = 'Passw0rd1!';
export const BIG_GROUP_SIZE = 2000;

/** 50 people with names from many scripts (given, surname, sAMAccountName). */
const PEOPLE_NAMES: readonly (readonly [string, string, string])[] = [
  ['Zoë', 'Ångström', 'zoe.angstrom'], ['Jürgen', 'Müller', 'juergen.mueller'], ['François', 'Lefèvre', 'francois.lefevre'],
  ['Søren', 'Kierkegård', 'soren.kierkegard'], ['Łukasz', 'Żółtowski', 'lukasz.zoltowski'], ['Nuño', 'Peña', 'nuno.pena'],
  ['İbrahim', 'Çelik', 'ibrahim.celik'], ['Ævar', 'Þórsson', 'aevar.thorsson'], ['Dvořák', 'Šťastný', 'dvorak.stastny'],
  ['Ōtake', 'Rōshi', 'otake.roshi'], ['山田', '太郎', 'yamada.taro'], ['李', '小龍', 'li.xiaolong'], ['김', '민준', 'kim.minjun'],
  ['Анна', 'Иванова', 'anna.ivanova'], ['Дмитрий', 'Шостакович', 'dmitri.shostakovich'], ['Γιώργος', 'Παπαδόπουλος', 'giorgos.papadopoulos'],
  ['محمد', 'العلي', 'mohammed.alali'], ['שרה', 'כהן', 'sarah.cohen'], ['Ngọc', 'Nguyễn', 'ngoc.nguyen'], ['Björk', 'Guðmundsdóttir', 'bjork.gudmundsdottir'],
  ['Chloé', 'Dubois', 'chloe.dubois'], ['José', 'García', 'jose.garcia'], ['João', 'Gonçalves', 'joao.goncalves'], ['Mårten', 'Öberg', 'marten.oberg'],
  ['Ẑofia', 'Węgrzyn', 'zofia.wegrzyn'], ['Ilmārs', 'Bērziņš', 'ilmars.berzins'], ['Gintaras', 'Žukauskas', 'gintaras.zukauskas'],
  ['Tõnu', 'Kõiv', 'tonu.koiv'], ['Ferenc', 'Szőke', 'ferenc.szoke'], ['Ramón', 'Núñez', 'ramon.nunez'], ['Siân', 'Llŷr', 'sian.llyr'],
  ['Ciarán', 'Ó Súilleabháin', 'ciaran.osuilleabhain'], ['Raúl', 'Sánchez', 'raul.sanchez'], ['Aleš', 'Černý', 'ales.cerny'],
  ['Dragoș', 'Ștefănescu', 'dragos.stefanescu'], ['Ebru', 'Güneş', 'ebru.gunes'], ['Priyā', 'Śarmā', 'priya.sharma'],
  ['Thảo', 'Trần', 'thao.tran'], ['Renée', 'O’Brien', 'renee.obrien'], ['Zoltán', 'Kovács', 'zoltan.kovacs'], ['Åsa', 'Lindqvist', 'asa.lindqvist'],
  ['Håkon', 'Ødegård', 'hakon.odegard'], ['Mía', 'Fernández', 'mia.fernandez'], ['Noël', 'Laurent-Étienne', 'noel.laurent'],
  ['Ayşe', 'Yılmaz', 'ayse.yilmaz'], ['Øystein', 'Bræk', 'oystein.braek'], ['Wąsik', 'Ćwikła', 'wasik.cwikla'], ['Émile', 'Zola, Jr.', 'emile.zola'],
  ['Ludwig', 'van Beethoven+', 'ludwig.vanbeethoven'], ['Ada', 'Lovelace', 'ada.lovelace'],
];

const cnEscape = (s: string): string => s.replace(/([,+"\\<>;=#])/g, '\\$1');

function person(given: string, sn: string, sam: string, ou = PEOPLE, extra: Partial<FixtureUser> = {}): FixtureUser {
  const display = `${given} ${sn}`;
  return {
    dn: `CN=${cnEscape(display)},${ou}`,
    sAMAccountName: sam,
    userPrincipalName: `${sam}@rolemap.test`,
    givenName: given,
    sn,
    displayName: display,
    mail: `${sam}@rolemap.test`,
    ...extra,
  };
}

export function testDirectory(): DirectoryDefinition {
  const named = PEOPLE_NAMES.map(([g, s, sam]) => person(g, s, sam));
  const n = (i: number): string => named[i]!.dn;
  const special = {
    disabledOne: person('Dora', 'Disabled', 'disabled.one', PEOPLE, { userAccountControl: 514 }),
    disabledTwo: person('Dieter', 'Deaktiviert', 'disabled.two', PEOPLE, { userAccountControl: 66050 }),
    disabledBind: person('Dana', 'Disabled-Bind', 'disabled.bind', PEOPLE, { userAccountControl: 514, password: USER_PASSWORD }),
    expired: person('Ernő', 'Expired', 'expired.user', PEOPLE, { accountExpires: encodeAccountExpires(new Date('2020-01-01T00:00:00Z')), password: USER_PASSWORD }),
    future: person('Fiona', 'Future', 'future.user', PEOPLE, { accountExpires: encodeAccountExpires(new Date('2099-01-01T00:00:00Z')) }),
    neverMax: person('Nils', 'Never', 'never.max', PEOPLE, { accountExpires: '9223372036854775807' }),
    mustChange: person('Mona', 'Mustchange', 'mustchange.user', PEOPLE, { password: USER_PASSWORD, mustChangePassword: true }),
    renamed: person('Renée', 'Old', 'renee.old', PEOPLE),
  };
  const service = person('rolemap', 'service', 'svc-rolemap', SERVICE, { password: USER_PASSWORD });
  const outsider = person('Otto', 'Outsider', 'outsider', OUTSIDE);
  const contact = `CN=Külső Kontakt,${OUTSIDE}`;
  const bulk: FixtureUser[] = Array.from({ length: BIG_GROUP_SIZE }, (_, i) => {
    const k = String(i + 1).padStart(4, '0');
    return person(`Bülk`, `Üser ${k}`, `bulk${k}`, BULK);
  });
  const g = (cn: string, members: string[], ou = GROUPS, sam = cn): FixtureGroup => ({ dn: `CN=${cnEscape(cn)},${ou}`, sAMAccountName: sam, members });
  const nestLeaf = g('Nest-Leaf', [n(18), n(19)]);
  const nestMid = g('Nest-Mid', [nestLeaf.dn, n(17)], OTHER_GROUPS);
  const nestTop = g('Nest-Top', [nestMid.dn, n(16)]);
  const cycleA = `CN=Cycle-A,${GROUPS}`;
  const cycleC = g('Cycle-C', [cycleA, n(22)]);
  const cycleB = g('Cycle-B', [cycleC.dn, n(21)]);
  const cycleAGroup = g('Cycle-A', [cycleB.dn, n(20)]);
  const renamedTo = `CN=Renée Nouveau,${PEOPLE}`;
  const groups: FixtureGroup[] = [
    nestLeaf, nestMid, nestTop, cycleAGroup, cycleB, cycleC,
    g('AWS-111111111111-ReadOnly', [nestTop.dn, n(0), n(1)]),
    g('AWS-111111111111-Admin', [n(2), n(3), special.disabledOne.dn]),
    g('AWS-222222222222-ReadOnly', [special.expired.dn, special.future.dn, outsider.dn, contact, n(4)]),
    g('Platform-Admins', [cycleA, n(5)]),
    g('Data-Analysts', [...named.slice(6, 16).map((u) => u.dn), special.renamed.dn]),
    g('Auditors', [special.disabledTwo.dn, special.neverMax.dn, special.mustChange.dn, n(23)]),
    g('Big-2000', bulk.map((u) => u.dn)),
    g('Ops (EU) *', [n(24)], GROUPS, 'ops-eu'),
    g('Empty-Group', []),
  ];
  return {
    name: 'test',
    userBase: PEOPLE,
    groupBase: GROUPS,
    ous: [PEOPLE, BULK, GROUPS, OTHER_GROUPS, OUTSIDE, SERVICE],
    users: [...named, ...Object.values(special), service, outsider, ...bulk],
    contacts: [contact],
    groups,
    renames: [{ fromDn: special.renamed.dn, toDn: renamedTo, sAMAccountName: 'renee.nouveau', userPrincipalName: 'renee.nouveau@rolemap.test', displayName: 'Renée Nouveau' }],
  };
}

/** Deterministic pseudo-random numbers (mulberry32), so the bench directory is the same every time. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Name (cn and sAMAccountName) of bench group i: `AWS-<account>-Role<i>`, across 50 accounts. */
export function benchGroupName(i: number): string {
  return `AWS-${String(100000000000 + (i % 50)).padStart(12, '0')}-Role${String(i).padStart(4, '0')}`;
}

/**
 * The bench directory: `users` users and `groups` groups named `AWS-<account>-Role<n>`, nested three
 * levels (5% top groups holding 3 mid groups each, 15% mid groups holding 4 leaf groups each, leaf
 * groups with 40 users each, plus a few direct users everywhere), and one group of 5,000 members.
 */
export function benchDirectory(users = 10_000, groups = 1_000): DirectoryDefinition {
  const random = rng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const people: FixtureUser[] = Array.from({ length: users }, (_, i) => {
    const k = String(i + 1).padStart(5, '0');
    return person(`Benç`, `Mårk ${k}`, `bench${k}`, PEOPLE);
  });
  const dns = people.map((u) => u.dn);
  const name = benchGroupName;
  const top = Math.round(groups * 0.05);
  const mid = Math.round(groups * 0.15);
  const leafStart = top + mid;
  const defs: FixtureGroup[] = [];
  for (let i = 0; i < groups; i++) {
    const members: string[] = [];
    const groupDn = (j: number): string => `CN=${name(j)},${GROUPS}`;
    if (i < top) for (let j = 0; j < 3; j++) members.push(groupDn(top + ((i * 3 + j) % mid)));
    else if (i < leafStart) for (let j = 0; j < 4; j++) members.push(groupDn(leafStart + (((i - top) * 4 + j) % (groups - leafStart))));
    const direct = i === groups - 1 ? 5000 : i < leafStart ? 5 : 40;
    const chosen = new Set<string>();
    while (chosen.size < Math.min(direct, dns.length)) chosen.add(i === groups - 1 ? dns[chosen.size]! : pick(dns));
    members.push(...chosen);
    defs.push({ dn: groupDn(i), sAMAccountName: name(i), members });
  }
  return {
    name: `bench-${users}u-${groups}g`,
    userBase: PEOPLE,
    groupBase: GROUPS,
    ous: [PEOPLE, GROUPS],
    users: people,
    contacts: [],
    groups: defs,
    renames: [],
  };
}
