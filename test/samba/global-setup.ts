/** Provisions and starts a Samba AD DC on loopback for the `samba` test project (filled in by the directory-source work). */
export default function setup(): void {}
