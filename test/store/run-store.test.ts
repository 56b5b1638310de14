import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runsDir } from '../../src/config/paths.js';
import { runToJson } from '../../src/report/export.js';
import {
  describeFsError,
  listGroup,
  listRuns,
  loadRun,
  removeRun,
  resolveRunOrGroup,
  saveRun,
  StoreError,
  uniqueRunId,
  type RunListEntry,
} from '../../src/store/run-store.js';
import { fakeRun } from '../helpers/fake-run.js';
import { faultFsScript, withFsFault } from '../helpers/fs-fault.js';
import { nobodyCannotRun } from '../helpers/nobody.js';
import { REPO_ROOT } from '../helpers/repo.js';

/** A fresh data directory per test; returns its runs dir. */
function freshHome(): { home: string; dir: string } {
  const home = mkdtempSync(join(tmpdir(), 'gb-store-'));
  return { home, dir: runsDir({ GEMMA_BENCH_HOME: home }) };
}

const okIds = (entries: RunListEntry[]) => entries.filter((e) => e.ok).map((e) => (e.ok ? e.id : ''));

test('saveRun writes atomically: the file reads back equal, no temp file is left', async () => {
  const { dir } = freshHome();
  const run = fakeRun({ failed: 2, replicas: 2 });
  const saved = await saveRun(run, dir);
  assert.equal(saved.file, join(dir, `${run.id}.json`));
  assert.deepEqual(saved.problems, []);
  assert.deepEqual(readdirSync(dir), [`${run.id}.json`]);
  assert.deepEqual(await loadRun(run.id, dir), JSON.parse(JSON.stringify(run)));
  assert.equal(readFileSync(saved.file, 'utf8'), JSON.stringify(run), 'compact JSON, as written by saveRun');
  // Saving the same id again replaces it (still one file).
  await saveRun({ ...run, notes: ['re-saved'] }, dir);
  assert.deepEqual(readdirSync(dir), [`${run.id}.json`]);
  assert.deepEqual((await loadRun(run.id, dir)).notes, ['re-saved']);
  const id = await uniqueRunId('balanced', new Date(), dir);
  assert.ok(!existsSync(join(dir, `${id}.json`)));
});

test('a save that fails before the rename leaves neither a run file nor a temp file', async () => {
  const { dir } = freshHome();
  await saveRun(fakeRun({ id: '20261125-100000-good-0001' }), dir);
  const enospc = async () => {
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  };
  await withFsFault('rename', enospc, async () => {
    await assert.rejects(saveRun(fakeRun({ id: '20261125-110000-bad-0002' }), dir), (e: unknown) => {
      assert.ok(e instanceof StoreError);
      assert.equal(e.kind, 'write');
      assert.match(e.message, /cannot write runs to .*: no space left on device \(ENOSPC\)\. Free some space/);
      return true;
    });
  });
  assert.deepEqual(readdirSync(dir), ['20261125-100000-good-0001.json']);
});

test('a crash between write and rename leaves no run file that lists as valid', async () => {
  const { dir } = freshHome();
  const good = fakeRun({ id: '20261125-100000-good-0001' });
  await saveRun(good, dir);
  // A child process writes the temp file, then dies by SIGKILL right before the rename.
  const script = `
    import { saveRun } from ${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'dist/src/store/run-store.js')).href)};
    import { fakeRun } from ${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'dist/test/helpers/fake-run.js')).href)};
    ${faultFsScript('rename', "process.kill(process.pid, 'SIGKILL');")}
    await saveRun(fakeRun({ id: '20261125-120000-crashed-0003' }), ${JSON.stringify(dir)});
    console.log('not reached');
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.signal, 'SIGKILL', r.stderr);
  assert.doesNotMatch(r.stdout, /not reached/);
  const left = readdirSync(dir);
  assert.equal(left.length, 2, `expected the good run and one orphaned temp file, got ${left.join(', ')}`);
  assert.ok(left.some((f) => f.startsWith('.') && f.endsWith('.tmp')));
  const entries = await listRuns(dir);
  assert.equal(entries.length, 1);
  assert.deepEqual(okIds(entries), [good.id]);
  await assert.rejects(loadRun('20261125-120000-crashed-0003', dir), (e: unknown) => e instanceof StoreError && e.kind === 'not-found');
  // A later save clears the orphan once it is a day old (not before: it could be a save in progress).
  const orphan = join(dir, left.find((f) => f.endsWith('.tmp'))!);
  await saveRun(fakeRun({ id: '20261125-130000-later-0004' }), dir);
  assert.ok(existsSync(orphan));
  const dayAgo = new Date(Date.now() - 25 * 3600 * 1000);
  utimesSync(orphan, dayAgo, dayAgo);
  await saveRun(fakeRun({ id: '20261125-130000-later-0004' }), dir);
  assert.ok(!existsSync(orphan));
});

test('listRuns: corrupt files are listed as unreadable by name, newest first, and never hide the good ones', async () => {
  const { dir } = freshHome();
  const older = fakeRun({ id: '20261124-090000-older-aaaa', startedAt: '2026-11-24T09:00:00.000Z', name: 'older' });
  const newer = fakeRun({ id: '20261126-090000-newer-bbbb', startedAt: '2026-11-26T09:00:00.000Z', name: 'newer', seed: 2 });
  await saveRun(older, dir);
  await saveRun(newer, dir);
  const full = runToJson(fakeRun({ id: '20261125-000003-truncated-0003' }));
  writeFileSync(join(dir, '20261125-000001-garbage-0001.json'), 'this is {not json');
  writeFileSync(join(dir, '20261125-000002-schema-0002.json'), JSON.stringify({ schemaVersion: 1, id: '20261125-000002-schema-0002', name: 7 }));
  writeFileSync(join(dir, '20261125-000003-truncated-0003.json'), full.slice(0, Math.floor(full.length / 2)));
  writeFileSync(join(dir, '20261125-000004-empty-0004.json'), '');
  writeFileSync(join(dir, '20261125-000005-future-0005.json'), JSON.stringify({ ...fakeRun({ id: '20261125-000005-future-0005' }), schemaVersion: 99 }));
  writeFileSync(join(dir, '20261125-000006-renamed-0006.json'), runToJson(fakeRun({ id: '20261125-999999-other-9999' })));
  const badSummary = JSON.parse(runToJson(fakeRun({ id: '20261125-000007-badsummary-0007' })));
  badSummary.summary.metrics.e2eMs.p50 = 'fast';
  writeFileSync(join(dir, '20261125-000007-badsummary-0007.json'), JSON.stringify(badSummary));
  writeFileSync(join(dir, 'notes.txt'), 'not a run');
  mkdirSync(join(dir, 'subdir'));

  const entries = await listRuns(dir);
  assert.equal(entries.length, 9);
  assert.deepEqual(okIds(entries), [newer.id, older.id]);
  assert.equal(entries[0].ok && entries[0].id, newer.id, 'newest first');
  assert.equal(entries[entries.length - 1].ok && entries[entries.length - 1].file, join(dir, `${older.id}.json`));
  const bad = Object.fromEntries(entries.filter((e) => !e.ok).map((e) => [e.file.split('/').pop(), e.ok ? '' : e.error]));
  assert.match(bad['20261125-000001-garbage-0001.json'], /not valid JSON/);
  assert.match(bad['20261125-000002-schema-0002.json'], /not a valid run file: .*name/);
  assert.match(bad['20261125-000003-truncated-0003.json'], /not valid JSON \(truncated or corrupt\)/);
  assert.match(bad['20261125-000004-empty-0004.json'], /empty file/);
  assert.match(bad['20261125-000005-future-0005.json'], /newer gemma-bench \(schemaVersion 99/);
  assert.match(bad['20261125-000006-renamed-0006.json'], /does not match the file name/);
  assert.match(bad['20261125-000007-badsummary-0007.json'], /summary\.metrics\.e2eMs\.p50/);

  const head = entries.find((e) => e.ok && e.id === newer.id);
  assert.ok(head && head.ok);
  assert.deepEqual(head.headline, {
    completed: newer.summary.completed,
    failed: newer.summary.failed,
    throughputReqS: newer.summary.throughputReqS,
    e2eP50Ms: newer.summary.metrics.e2eMs.p50,
    e2eP95Ms: newer.summary.metrics.e2eMs.p95,
    ttftP50Ms: newer.summary.metrics.ttftMs.p50,
    outputTokensPerS: newer.summary.outputTokensPerS,
  });
  assert.equal(head.modelLabel, 'gemma3-tiny, random weights: speed only');
  assert.equal(head.presetName, 'balanced');
  assert.equal(head.backend, 'onnx');

  await assert.rejects(loadRun('20261125-000001', dir), (e: unknown) => {
    assert.ok(e instanceof StoreError);
    assert.equal(e.kind, 'unreadable');
    assert.match(e.message, /run 20261125-000001-garbage-0001 is unreadable: not valid JSON.*runs rm 20261125-000001-garbage-0001/s);
    return true;
  });
});

test('the listing cache: re-reads changed files, forgets removed ones, survives being damaged', async () => {
  const { dir } = freshHome();
  const a = fakeRun({ id: '20261125-140000-a-0001' });
  const b = fakeRun({ id: '20261125-150000-b-0002', seed: 2 });
  await saveRun(a, dir);
  await saveRun(b, dir);
  const first = await listRuns(dir);
  assert.deepEqual(okIds(first), [b.id, a.id]);
  assert.ok(existsSync(join(dir, '.index.json')), 'cache written');
  assert.deepEqual(await listRuns(dir), first, 'cached entries equal fresh ones, key order included');
  assert.equal(JSON.stringify(await listRuns(dir)), JSON.stringify(first));

  // Truncated after it was cached: listed as unreadable on the next listing.
  const fileA = join(dir, `${a.id}.json`);
  writeFileSync(fileA, readFileSync(fileA, 'utf8').slice(0, 500));
  let entries = await listRuns(dir);
  assert.deepEqual(okIds(entries), [b.id]);
  assert.match(entries[1].ok ? '' : entries[1].error, /not valid JSON/);
  // Rewritten with a changed summary: the new numbers show.
  await saveRun({ ...a, name: 'renamed' }, dir);
  entries = await listRuns(dir);
  assert.equal(entries[1].ok && entries[1].name, 'renamed');
  // Removed: gone from the listing.
  await removeRun(b.id, dir);
  assert.deepEqual(okIds(await listRuns(dir)), [a.id]);
  // A damaged cache is ignored and rebuilt.
  writeFileSync(join(dir, '.index.json'), '{"version": 1, "files": {"x": ');
  assert.deepEqual(okIds(await listRuns(dir)), [a.id]);
  writeFileSync(join(dir, '.index.json'), JSON.stringify({ version: 1, files: { [`${a.id}.json`]: { stamp: { size: '1', mtimeNs: '1', ino: '1' }, entry: { ok: false, error: 'stale' } } } }));
  assert.deepEqual(okIds(await listRuns(dir)), [a.id], 'a stale stamp is not trusted');
});

test('a missing store lists empty; lookups say there is nothing', async () => {
  const { dir } = freshHome();
  assert.deepEqual(await listRuns(dir), []);
  await assert.rejects(loadRun('x', dir), /no saved run "x" in .*There are no saved runs yet/);
  await assert.rejects(loadRun('latest', dir), /no saved runs/);
});

test('loadRun by exact id, unique prefix, latest; ambiguous prefixes list the candidates', async () => {
  const { dir } = freshHome();
  const ids = ['20261125-140000-a-0001', '20261125-140000-b-0002', '20261125-150000-c-0003'];
  for (const [i, id] of ids.entries()) await saveRun(fakeRun({ id, seed: i + 1 }), dir);
  assert.equal((await loadRun(ids[0], dir)).id, ids[0]);
  assert.equal((await loadRun('20261125-15', dir)).id, ids[2]);
  assert.equal((await loadRun('20261125-140000-b', dir)).id, ids[1]);
  assert.equal((await loadRun('latest', dir)).id, ids[2]);
  await assert.rejects(loadRun('20261125-14', dir), (e: unknown) => {
    assert.ok(e instanceof StoreError && e.kind === 'ambiguous');
    assert.match(e.message, /"20261125-14" matches 2 runs; give more of the id:\n {2}20261125-140000-b-0002\n {2}20261125-140000-a-0001/);
    return true;
  });
  await assert.rejects(loadRun('2027', dir), (e: unknown) => e instanceof StoreError && e.kind === 'not-found' && /runs list/.test(e.message));
  await assert.rejects(loadRun('', dir), (e: unknown) => e instanceof StoreError && e.kind === 'not-found');
});

test('removeRun deletes one run (unreadable ones too) and leaves the rest', async () => {
  const { dir } = freshHome();
  await saveRun(fakeRun({ id: '20261125-140000-a-0001' }), dir);
  await saveRun(fakeRun({ id: '20261125-150000-b-0002' }), dir);
  writeFileSync(join(dir, '20261125-160000-broken-0003.json'), '{');
  assert.equal(await removeRun('20261125-150000-b-0002', dir), join(dir, '20261125-150000-b-0002.json'));
  assert.equal(await removeRun('20261125-16', dir), join(dir, '20261125-160000-broken-0003.json'));
  assert.deepEqual(readdirSync(dir), ['20261125-140000-a-0001.json']);
  await assert.rejects(removeRun('20261125-150000-b-0002', dir), (e: unknown) => e instanceof StoreError && e.kind === 'not-found');
});

test('listGroup and resolveRunOrGroup: a sweep in grid order; a group id wins over a prefix of its runs', async () => {
  const { dir } = freshHome();
  const gid = '20261125-160000-sweep-abcd';
  for (const i of [2, 0, 1]) {
    await saveRun(
      fakeRun({
        id: `${gid}-p${i}`,
        seed: 10 + i,
        panScan: { maxNumCrops: 2 + 2 * i },
        group: { id: gid, kind: 'sweep', point: { 'max-crops': 2 + 2 * i }, index: i, total: 3 },
      }),
      dir,
    );
  }
  await saveRun(fakeRun({ id: '20261125-170000-solo-0001' }), dir);
  const runs = await listGroup(gid, dir);
  assert.deepEqual(runs.map((r) => r.group?.index), [0, 1, 2]);
  assert.deepEqual(await listGroup('nope', dir), []);
  const g = await resolveRunOrGroup(gid, dir);
  assert.equal(g.kind, 'group');
  assert.equal(g.kind === 'group' && g.runs.length, 3);
  const one = await resolveRunOrGroup(`${gid}-p1`, dir);
  assert.equal(one.kind === 'run' && one.run.group?.index, 1);
  const solo = await resolveRunOrGroup('20261125-17', dir);
  assert.equal(solo.kind === 'run' && solo.run.id, '20261125-170000-solo-0001');
});

test('saveRun still saves a run that would not validate, and says why', async () => {
  const { dir } = freshHome();
  const run = fakeRun({ id: '20261125-140000-nan-0001' });
  const broken = { ...run, summary: { ...run.summary, measuredWallS: Number.NaN } };
  const saved = await saveRun(broken, dir);
  assert.equal(saved.problems.length, 1);
  assert.match(saved.problems[0], /summary\.measuredWallS/);
  const [entry] = await listRuns(dir);
  assert.equal(entry.ok, false);
  await assert.rejects(saveRun({ ...run, id: '../escape' }, dir), /not a safe file name/);
});

test('describeFsError names the condition and the code', () => {
  const e = (code: string, message = `${code}: boom, open '/x'`) => Object.assign(new Error(message), { code });
  assert.equal(describeFsError(e('EROFS')), 'read-only file system (EROFS)');
  assert.equal(describeFsError(e('EACCES')), 'permission denied (EACCES)');
  assert.equal(describeFsError(e('ENOSPC')), 'no space left on device (ENOSPC)');
  assert.equal(describeFsError(e('EWHATEVER', 'EWHATEVER: strange thing, open /x')), 'strange thing (EWHATEVER)');
  assert.equal(describeFsError(new Error('plain')), 'plain');
});

/** Root ignores file modes, so the unwritable-store checks run as user nobody in a child process. */
const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;

function readOnlyStore(): { home: string; dir: string; file: string } {
  const home = mkdtempSync(join(tmpdir(), 'gb-ro-'));
  chmodSync(home, 0o755);
  const dir = runsDir({ GEMMA_BENCH_HOME: home });
  mkdirSync(dir);
  const file = join(dir, '20261125-100000-keep-0001.json');
  writeFileSync(file, runToJson(fakeRun({ id: '20261125-100000-keep-0001' })));
  chmodSync(dir, 0o555);
  return { home, dir, file };
}

function asNobody(args: string[], env: NodeJS.ProcessEnv): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, ...env }, cwd: tmpdir(), ...(isRoot ? { uid: NOBODY, gid: NOBODY } : {}) });
}

test('an unwritable store: saving fails with a message saying what to do, and leaves no file', async (t) => {
  const cannot = nobodyCannotRun();
  if (cannot) {
    t.skip(cannot);
    return;
  }
  const { home, dir, file } = readOnlyStore();
  // As root the child drops to nobody; as an ordinary user the 0555 mode already stops writes.
  const probe = asNobody(['-e', `require('fs').writeFileSync(${JSON.stringify(join(dir, 'probe'))}, 'x')`], {});
  if (probe.status === 0) {
    t.skip(`cannot make an unwritable directory here (a write into a 0555 directory succeeded as uid ${isRoot ? NOBODY : process.getuid?.()})`);
    return;
  }
  assert.ok(statSync(join(REPO_ROOT, 'dist/src/store/run-store.js')).mode & 0o004, 'dist must be world-readable for the child');
  const script = `
    import { saveRun } from ${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'dist/src/store/run-store.js')).href)};
    import { fakeRun } from ${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'dist/test/helpers/fake-run.js')).href)};
    try { await saveRun(fakeRun({ id: '20261125-110000-new-0002' })); console.log('saved'); }
    catch (e) { console.error(e.name + ': ' + e.message); process.exit(1); }
  `;
  const r = asNobody(['--input-type=module', '-e', script], { GEMMA_BENCH_HOME: home });
  assert.equal(r.status, 1, `stdout: ${r.stdout} stderr: ${r.stderr}`);
  assert.match(String(r.stderr), new RegExp(`StoreError: cannot write runs to ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: permission denied \\(EACCES\\)\\. Set GEMMA_BENCH_HOME to a writable directory\\.`));
  assert.deepEqual(readdirSync(dir), ['20261125-100000-keep-0001.json'], 'no new run file and no temp file');

  // The real CLI: deleting from the read-only store fails (exit 1) and the file stays.
  const rm = asNobody([join(REPO_ROOT, 'dist/src/cli/main.js'), 'runs', 'rm', '20261125-100000-keep-0001', '--yes'], { GEMMA_BENCH_HOME: home });
  assert.equal(rm.status, 1, String(rm.stderr));
  assert.match(String(rm.stderr), /cannot remove .*20261125-100000-keep-0001\.json: permission denied \(EACCES\)/);
  assert.ok(existsSync(file));
  // Reading still works.
  const ls = asNobody([join(REPO_ROOT, 'dist/src/cli/main.js'), 'runs', 'list'], { GEMMA_BENCH_HOME: home });
  assert.equal(ls.status, 0, String(ls.stderr));
  assert.match(String(ls.stdout), /20261125-100000-keep-0001/);
});

test('a runs directory that cannot be created: the message names it and what to do', async () => {
  const home = mkdtempSync(join(tmpdir(), 'gb-blocked-home-'));
  writeFileSync(join(home, 'runs'), 'a file where the runs directory should be');
  await assert.rejects(saveRun(fakeRun(), runsDir({ GEMMA_BENCH_HOME: home })), (e: unknown) => {
    assert.ok(e instanceof StoreError);
    assert.match(e.message, /cannot write runs to .*runs: .*\((EEXIST|ENOTDIR)\)\. Set GEMMA_BENCH_HOME to a writable directory\./);
    return true;
  });
  assert.deepEqual(readdirSync(home), ['runs']);
});
