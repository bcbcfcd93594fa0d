/**
 * The forwarder's probes (forwarder.c, `probe`): one process with a socket in each namespace of a
 * link, timing the path between them.
 */
import { execFile } from 'node:child_process';
import { forwarderBinary } from './build.ts';
import { SERVER_ADDRESS } from './netns.ts';

export type ProbeKind = 'rtt' | 'connect' | 'bulk' | 'flood' | 'http';

export interface SamplesProbe {
  kind: 'rtt' | 'connect';
  samples: number;
  minUs: number;
  medianUs: number;
  p90Us: number;
  maxUs: number;
}
export interface BulkProbe {
  kind: 'bulk';
  bytes: number;
  connectUs: number;
  totalUs: number;
  firstByteToLastUs: number;
}
export interface FloodProbe {
  kind: 'flood';
  sent: number;
  received: number;
  /** Datagrams that arrived after one numbered higher. */
  reordered: number;
  seconds: number;
  packetsPerSecond: number;
}
export interface HttpProbe {
  kind: 'http';
  connectMedianUs: number;
  responseMedianUs: number;
  samples: number;
}
/** A connection the path never let through (probe exit code 3). */
export interface FailedProbe {
  kind: 'connect';
  error: string;
}

type ProbeResult<K extends ProbeKind> = K extends 'rtt' | 'connect' ? SamplesProbe : K extends 'bulk' ? BulkProbe : K extends 'flood' ? FloodProbe : HttpProbe;

/** Runs a probe between the client's and the server's namespaces; `options`: count, bytes, ms, packets, drain-ms, port, path, timeout-ms. */
export function probe<K extends ProbeKind>(
  kind: K,
  namespaces: { clientNamespace: string; serverNamespace: string },
  options: Record<string, string | number> = {},
  serverAddress = SERVER_ADDRESS,
): Promise<ProbeResult<K> | FailedProbe> {
  const args = [
    'probe',
    kind,
    '--ns-a',
    `/run/netns/${namespaces.clientNamespace}`,
    '--ns-b',
    `/run/netns/${namespaces.serverNamespace}`,
    '--addr-b',
    serverAddress,
    ...Object.entries(options).flatMap(([name, value]) => [`--${name}`, String(value)]),
  ];
  return new Promise((resolve, reject) => {
    execFile(forwarderBinary(), args, { encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (error !== null && !(error.code === 3 && line.startsWith('{'))) {
        reject(new Error(`probe ${kind} failed: ${stderr.trim() || error.message}`));
        return;
      }
      resolve(JSON.parse(line) as ProbeResult<K> | FailedProbe);
    });
  });
}

/** The probe's result, or an error if the path let no connection through. */
export async function probeOk<K extends ProbeKind>(...args: Parameters<typeof probe<K>>): Promise<ProbeResult<K>> {
  const result = await probe(...args);
  if ('error' in result) throw new Error(`probe ${args[0]}: ${result.error}`);
  return result as ProbeResult<K>;
}
