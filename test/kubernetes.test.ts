/**
 * deploy/kubernetes/ (the shards of a run as an Indexed Job, their merge, the image), checked where
 * no cluster runs: every manifest is YAML; the shards' Job is Indexed, one pod per shard, all at
 * once, and runs the image the Dockerfile builds; each pod's command, its placeholders filled in as
 * envsubst fills them and its index put in as Kubernetes puts it, is `npm run bench -- ...` that the
 * bench's own parser takes for shard i of N of one run, against the target and from the start time
 * given; and the merge's command is `npm run report -- --merge` over exactly what the shards write.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { parseBenchArgs } from '../bench/cli.ts';
import { SUITES, resolveSuite } from '../bench/scenarios.ts';
import { REPORT_COMMAND } from '../scripts/report.ts';

const ROOT = new URL('../', import.meta.url);
const DEPLOY = new URL('deploy/kubernetes/', ROOT);
const read = (relative: string, base: URL = DEPLOY): string => readFileSync(new URL(relative, base), 'utf8');

/** The placeholders the manifests take, and sample values (as the README's example sets them). */
const SAMPLE: Record<string, string> = {
  IMAGE: 'registry.example.com/wirecost:1',
  RUN: 'ws-push-20k',
  SHARDS: '4',
  TARGET: 'ws://10.0.0.5:8080/',
  START_AT: '1800000000000',
  BENCH_ARGS: '--scenarios push --clients 20000 --payload 1KiB --push-rate 1 --duration 60',
};

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string }[];
  workingDir?: string;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  volumeMounts?: { name: string; mountPath: string }[];
}

interface Job {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    completionMode?: string;
    completions?: unknown;
    parallelism?: unknown;
    backoffLimit?: unknown;
    template: {
      spec: {
        restartPolicy: string;
        containers: Container[];
        volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
      };
    };
  };
}

interface Claim {
  kind: string;
  metadata: { name: string };
  spec: { accessModes: string[] };
}

/** The objects of a YAML stream; any document with an error fails the test, named. */
function objects(text: string, name: string): unknown[] {
  return parseAllDocuments(text).map((document, index) => {
    assert.deepEqual(
      document.errors.map((error) => error.message),
      [],
      `${name}, document ${index + 1}`,
    );
    return document.toJS() as unknown;
  });
}

/** The one object of a manifest of one document. */
function only<T>(text: string, name: string): T {
  const all = objects(text, name);
  assert.equal(all.length, 1, `${name} holds one object`);
  return all[0] as T;
}

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

/** The names a text's $NAME and ${NAME} refer to, which envsubst fills in. */
function placeholders(text: string): Set<string> {
  return new Set([...text.matchAll(PLACEHOLDER)].map((match) => match[1] ?? match[2]!));
}

/** What envsubst (no SHELL-FORMAT argument) makes of a text: $NAME and ${NAME} replaced by the value, or nothing when unset; any other $ left alone. */
function envsubst(text: string, values: Record<string, string>): string {
  return text.replace(PLACEHOLDER, (_, braced: string | undefined, bare: string | undefined) => values[braced ?? bare!] ?? '');
}

/** What Kubernetes makes of a container's command or argument: $(NAME) replaced by the container's variable NAME where it has one, else left as it is; $$ is $. */
function kubernetesExpand(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (match, name: string | undefined) => (name === undefined ? '$' : (env[name] ?? match)));
}

const PLAIN_WORD = /^[A-Za-z0-9_\-./:,=@%+]+$/;
const GLOB_WORD = /^[A-Za-z0-9_\-./:,=@%+*]+$/;

/**
 * The words sh makes of a command line that uses no quoting (as the manifests' do): a word is a run
 * of non-blank characters. A character the shell would give a meaning (a quote, $, a backslash, a
 * redirection, ;, &, |, ~, #, brackets) is refused rather than interpreted; a word with `*` is a glob,
 * given to `glob` where the line may have one.
 */
function shellWords(line: string, glob?: (pattern: string) => string[]): string[] {
  return line
    .trim()
    .split(/[ \t\n]+/)
    .flatMap((word) => {
      if (PLAIN_WORD.test(word)) return [word];
      if (glob !== undefined && GLOB_WORD.test(word)) return glob(word);
      throw new Error(`"${word}" needs the shell's quoting or expansion, which these manifests must not use`);
    });
}

/** The paths among `paths` a glob of `*` only matches, as sh expands it (sorted; the pattern itself when nothing matches). */
function expandGlob(pattern: string, paths: string[]): string[] {
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]*')}$`,
  );
  const matched = paths.filter((path) => regex.test(path)).sort();
  return matched.length > 0 ? matched : [pattern];
}

/** The shell line a container runs: its command is sh -c and its one argument the line. */
function shellLine(container: Container, env: Record<string, string>): string {
  assert.deepEqual(container.command, ['sh', '-c'], `${container.name} runs its line with sh -c`);
  assert.equal(container.args?.length, 1, `${container.name} has one argument: the line`);
  return kubernetesExpand(container.args![0]!, env);
}

/** The container's own variables, and JOB_COMPLETION_INDEX as the Job controller adds it to every container of an Indexed Job's pod. */
function containerEnv(container: Container, index?: number): Record<string, string> {
  const own = Object.fromEntries((container.env ?? []).flatMap((variable) => (variable.value === undefined ? [] : [[variable.name, variable.value]])));
  return index === undefined ? own : { ...own, JOB_COMPLETION_INDEX: String(index) };
}

const manifests = readdirSync(DEPLOY).filter((name) => name.endsWith('.yaml'));
const shardsJob = (values: Record<string, string> = SAMPLE): Job => only<Job>(envsubst(read('shards.yaml'), values), 'shards.yaml');
const mergeJob = (values: Record<string, string> = SAMPLE): Job => only<Job>(envsubst(read('merge.yaml'), values), 'merge.yaml');
const claim = only<Claim>(read('results-pvc.yaml'), 'results-pvc.yaml');

/** The README's "Across machines (Kubernetes)" section. */
function readmeSection(): string {
  const readme = read('README.md', ROOT);
  const start = readme.indexOf('### Across machines (Kubernetes)');
  assert.ok(start >= 0, 'the README has the section');
  const end = readme.indexOf('\n##', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The words of shard `index`'s command after `npm run bench --`, with the placeholders filled in. */
function shardArgs(index: number, values: Record<string, string> = SAMPLE): string[] {
  const container = shardsJob(values).spec.template.spec.containers[0]!;
  const words = shellWords(shellLine(container, containerEnv(container, index)));
  assert.deepEqual(words.slice(0, 5), ['exec', 'npm', 'run', 'bench', '--'], 'the pod runs npm run bench -- ... in its own process');
  return words.slice(5);
}

describe('deploy/kubernetes', () => {
  it('every manifest parses as YAML, as it is and with its placeholders filled in, to Kubernetes objects', () => {
    assert.deepEqual(manifests.sort(), ['merge.yaml', 'results-pvc.yaml', 'shards.yaml']);
    for (const name of manifests) {
      for (const text of [read(name), envsubst(read(name), SAMPLE)]) {
        for (const object of objects(text, name) as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } }[]) {
          assert.equal(typeof object.apiVersion, 'string', name);
          assert.equal(typeof object.kind, 'string', name);
          assert.equal(typeof object.metadata?.name, 'string', name);
        }
      }
    }
  });

  it('takes its parameters as ${NAME} placeholders only, the ones the README sets, and envsubst fills them in as the test does', () => {
    const used = new Set(manifests.flatMap((name) => [...placeholders(read(name))]));
    assert.deepEqual([...used].sort(), Object.keys(SAMPLE).sort());
    for (const name of manifests) {
      // braces only: a bare $NAME in front of a letter or digit could be taken for a longer name
      assert.doesNotMatch(read(name), /\$[A-Za-z_]/, `${name}: every placeholder in braces`);
      const filled = envsubst(read(name), SAMPLE);
      assert.doesNotMatch(filled, /\$\{/, name);
      // the only dollar sign left is the index Kubernetes puts in
      assert.deepEqual(
        [...new Set(filled.match(/\$\S*/g) ?? [])].filter((use) => !use.startsWith('$(JOB_COMPLETION_INDEX)')),
        [],
        name,
      );
    }
    const exported = new Set([...readmeSection().matchAll(/(?:export |\s)([A-Z_]+)=/g)].map((match) => match[1]!));
    assert.deepEqual([...exported].sort(), Object.keys(SAMPLE).sort(), "the README's commands set every placeholder");
  });

  it(
    'envsubst itself fills the placeholders in as the test does',
    { skip: spawnSync('envsubst', ['--version']).error !== undefined && 'envsubst (gettext-base) is not installed' },
    () => {
      for (const name of manifests) {
        const real = spawnSync('envsubst', { input: read(name), encoding: 'utf8', env: { PATH: process.env.PATH, ...SAMPLE } });
        assert.equal(real.status, 0, real.stderr);
        assert.equal(real.stdout, envsubst(read(name), SAMPLE), name);
      }
    },
  );

  it('runs the shards as an Indexed Job: one pod per shard, all at once, none retried, each pinned to its resources', () => {
    const job = shardsJob();
    assert.equal(job.apiVersion, 'batch/v1');
    assert.equal(job.kind, 'Job');
    assert.equal(job.metadata.name, `wirecost-${SAMPLE.RUN}`);
    assert.equal(job.spec.completionMode, 'Indexed');
    assert.equal(job.spec.completions, Number(SAMPLE.SHARDS));
    assert.equal(job.spec.parallelism, job.spec.completions);
    assert.equal(job.spec.backoffLimit, 0, 'a failed shard fails the Job');
    const pod = job.spec.template.spec;
    assert.equal(pod.restartPolicy, 'Never');
    assert.equal(pod.containers.length, 1);
    const container = pod.containers[0]!;
    assert.ok(container.resources?.requests !== undefined && Object.keys(container.resources.requests).length > 0, 'requests set');
    assert.deepEqual(container.resources.limits, container.resources.requests, 'limits = requests (Guaranteed QoS)');
    assert.equal(container.env?.some((variable) => variable.name === 'JOB_COMPLETION_INDEX') ?? false, false, 'the Job controller sets the index');
  });

  it('names the image the Dockerfile builds, which has what npm run bench and npm run report need', () => {
    for (const job of [shardsJob(), mergeJob()]) {
      for (const container of job.spec.template.spec.containers) {
        assert.equal(container.image, SAMPLE.IMAGE, `${job.metadata.name}: the image is the \${IMAGE} placeholder`);
        assert.equal(container.workingDir, undefined, `${job.metadata.name}: the commands run in the image's WORKDIR, the repository`);
      }
    }
    const build = readmeSection()
      .split('\n')
      .find((line) => line.startsWith('docker build '));
    assert.ok(build !== undefined, 'the README builds the image');
    assert.match(build, /^docker build -f deploy\/kubernetes\/Dockerfile -t "\$IMAGE" \. && docker push "\$IMAGE"$/);
    const dockerfile = read('Dockerfile');
    assert.match(dockerfile, /^FROM node:20-bookworm-slim$/m);
    assert.match(dockerfile, /^WORKDIR \/app$/m);
    assert.match(dockerfile, /^COPY \. \.$/m);
    // every npm script runs its TypeScript with tsx, a devDependency: the image installs the dev dependencies
    const pkg = JSON.parse(read('package.json', ROOT)) as { scripts: Record<string, string>; devDependencies: Record<string, string> };
    assert.match(pkg.scripts.bench!, /--import tsx /);
    assert.match(pkg.scripts.report!, /--import tsx /);
    assert.ok('tsx' in pkg.devDependencies);
    const install = dockerfile.split('\n').find((line) => /^RUN npm ci\b/.test(line));
    assert.ok(install !== undefined, 'the image runs npm ci');
    assert.doesNotMatch(install, /--omit=dev|--production|--only=prod/);
    // the build context's .dockerignore keeps what the commands run
    const ignored = read('.dockerignore', ROOT)
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    for (const kept of ['bench', 'servers', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json']) {
      assert.ok(existsSync(new URL(kept, ROOT)), kept);
      assert.ok(!ignored.some((pattern) => pattern === kept || kept.startsWith(`${pattern}/`)), `${kept} is in the image`);
    }
  });

  it("pod i's command is npm run bench -- --shard i/N against the target from the start time, which the bench's parser takes, each shard writing its own folder", () => {
    const count = Number(SAMPLE.SHARDS);
    const outs = new Set<string>();
    for (let index = 0; index < count; index++) {
      const options = parseBenchArgs(shardArgs(index));
      assert.notEqual(options, 'help');
      if (options === 'help') return;
      assert.deepEqual(options.shard, { index, count });
      assert.equal(options.overrides.values?.target, SAMPLE.TARGET);
      assert.equal(options.overrides.values?.startAtMs, Number(SAMPLE.START_AT));
      assert.equal(options.pin, false, 'no pinning to the node core 0: the pod has its own cores');
      assert.equal(options.out, `/results/${SAMPLE.RUN}/shard-${index}`);
      outs.add(options.out);
      // a shard command times exactly one run
      assert.equal(resolveSuite(SUITES[options.suite], options.overrides).length, 1);
    }
    assert.equal(outs.size, count);
  });

  it("the README's example options make one run, and other values reach the bench as given", () => {
    const example = /BENCH_ARGS='([^']*)'/.exec(readmeSection())?.[1];
    assert.equal(example, SAMPLE.BENCH_ARGS, "the sample is the README's example");
    const other = { ...SAMPLE, SHARDS: '12', TARGET: 'ws://wirecost-server.bench.svc:8080/,ws://wirecost-server.bench.svc:8081/', START_AT: '1700000000123' };
    const options = parseBenchArgs(shardArgs(11, other));
    assert.notEqual(options, 'help');
    if (options === 'help') return;
    assert.deepEqual(options.shard, { index: 11, count: 12 });
    assert.deepEqual(options.overrides.values?.targetPorts, [8080, 8081]);
    assert.equal(options.overrides.values?.startAtMs, 1_700_000_000_123);
    assert.equal(shardsJob(other).spec.completions, 12);
    // a value that would need the shell's quoting is refused by the splitter, as it would break the pod's line
    assert.throws(() => shardArgs(0, { ...SAMPLE, BENCH_ARGS: "--scenarios 'push'" }), /quoting/);
  });

  it('mounts one ReadWriteMany claim where the shards write and the merge reads', () => {
    assert.equal(claim.kind, 'PersistentVolumeClaim');
    assert.deepEqual(claim.spec.accessModes, ['ReadWriteMany']);
    for (const job of [shardsJob(), mergeJob()]) {
      const pod = job.spec.template.spec;
      const volume = pod.volumes?.find((one) => one.persistentVolumeClaim?.claimName === claim.metadata.name);
      assert.ok(volume !== undefined, `${job.metadata.name} mounts ${claim.metadata.name}`);
      assert.deepEqual(pod.containers[0]!.volumeMounts, [{ name: volume.name, mountPath: '/results' }]);
    }
  });

  it("the merge's command is npm run report -- --merge over every shard's results.json, which the report's parser takes", () => {
    const job = mergeJob();
    assert.equal(job.kind, 'Job');
    assert.equal(job.metadata.name, `wirecost-${SAMPLE.RUN}-merge`);
    assert.equal(job.spec.backoffLimit, 0);
    assert.equal(job.spec.template.spec.restartPolicy, 'Never');
    const count = Number(SAMPLE.SHARDS);
    const written = Array.from({ length: count }, (_, index) => `/results/${SAMPLE.RUN}/shard-${index}/results.json`);
    // what is on the volume once the shards are done: theirs, another run's, and an earlier merge's
    const onVolume = [...written, `/results/other-run/shard-0/results.json`, `/results/${SAMPLE.RUN}/merged/results.json`];
    const container = job.spec.template.spec.containers[0]!;
    const words = shellWords(shellLine(container, containerEnv(container)), (pattern) => expandGlob(pattern, onVolume));
    assert.deepEqual(words.slice(0, 5), ['exec', 'npm', 'run', 'report', '--']);
    const command = REPORT_COMMAND.parse(words.slice(5));
    assert.notEqual(command, 'help');
    if (command === 'help') return;
    assert.equal(command.merge, true);
    assert.deepEqual([...command.files].sort(), [...written].sort(), "exactly the shards' files");
    assert.equal(command.out, `/results/${SAMPLE.RUN}/merged`);
    // each shard's folder (its --out) holds the results.json the merge reads
    assert.deepEqual(
      Array.from({ length: count }, (_, index) => {
        const options = parseBenchArgs(shardArgs(index));
        return options === 'help' ? '' : `${options.out}/results.json`;
      }),
      written,
    );
    // and the README waits for the shards' Job before it applies the merge
    assert.match(
      readmeSection(),
      /kubectl wait --for=condition=complete --timeout=\S+ job\/wirecost-\$RUN && envsubst < deploy\/kubernetes\/merge\.yaml \| kubectl apply -f -/,
    );
  });

  it('the README names only files that exist', () => {
    for (const [file] of readmeSection().matchAll(/deploy\/kubernetes\/[\w.-]+/g)) assert.ok(existsSync(new URL(file, ROOT)), file);
  });
});
