// chdir's permission rule, for code that must not chdir: search (x) permission on a directory for
// our effective ids, by owner, then group, then other; root always has it.

export interface Ids {
  euid: number;
  egid: number;
  groups: readonly number[];
}

export interface Owned {
  uid: number;
  gid: number;
  mode: number;
}

/** Pure. */
export function maySearchBy(ids: Ids, st: Owned): boolean {
  if (ids.euid === 0) return true;
  const bit = ids.euid === st.uid ? 0o100 : ids.egid === st.gid || ids.groups.includes(st.gid) ? 0o010 : 0o001;
  return (st.mode & bit) !== 0;
}
