/** Which side was the limit: the rule every run's result carries (bench/bound.ts). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SATURATED, decideBound, type BoundInput } from '../bench/bound.ts';

const idle: BoundInput = {
  driverEventLoopUtilization: 0.2,
  serverEventLoopUtilization: 0.3,
  serverCpuCores: 0.3,
  link: { bandwidthBitsPerSecond: 0, utilization: 0 },
  clientErrors: {},
};

describe('the bound of a run', () => {
  it('is none when no side was saturated: the scenario set the pace', () => {
    const bound = decideBound(idle);
    assert.equal(bound.side, 'none');
    assert.match(bound.reason, /30% busy/);
  });

  it('is the server when its event loop was saturated and the driver was not', () => {
    assert.equal(decideBound({ ...idle, serverEventLoopUtilization: 0.97, serverCpuCores: 0.99 }).side, 'server');
  });

  it('is the driver when the driver was saturated, even if the server was too: its figures measure the driver', () => {
    assert.equal(decideBound({ ...idle, driverEventLoopUtilization: SATURATED }).side, 'driver');
    const both = decideBound({ ...idle, driverEventLoopUtilization: 0.99, serverEventLoopUtilization: 0.95 });
    assert.equal(both.side, 'driver');
    assert.match(both.reason, /99% busy.*95% busy/);
  });

  it('is the link when the emulated link carried its rate, and a machine limit before anything else', () => {
    assert.equal(decideBound({ ...idle, link: { bandwidthBitsPerSecond: 10e6, utilization: 0.95 } }).side, 'link');
    assert.equal(decideBound({ ...idle, link: { bandwidthBitsPerSecond: 0, utilization: 5 } }).side, 'none', 'no link to fill');
    const machine = decideBound({ ...idle, driverEventLoopUtilization: 1, clientErrors: { 'connect EADDRNOTAVAIL 127.0.0.1:4000': 3 } });
    assert.equal(machine.side, 'machine');
    assert.match(machine.reason, /EADDRNOTAVAIL/);
  });

  it("falls back on the server's CPU when its event loop was not measured", () => {
    const { serverEventLoopUtilization: _unmeasured, ...cpuOnly } = idle;
    assert.equal(decideBound({ ...cpuOnly, serverCpuCores: 0.95 }).side, 'server');
    assert.equal(decideBound({ ...cpuOnly, serverCpuCores: 0.5 }).side, 'none');
  });

  it('a server of several processes is saturated when its busiest worker is, or when its workers together fill their cores', () => {
    const workers = { ...idle, serverEventLoopUtilization: 0.5, serverCpuCores: 0.6, serverCores: 1 };
    assert.equal(decideBound(workers).side, 'none');
    const coresFull = decideBound({ ...workers, serverCpuCores: 0.95 });
    assert.equal(coresFull.side, 'server', 'no worker alone was busy, and together they filled the core');
    assert.match(coresFull.reason, /busiest worker's event loop was 50% busy and its workers used 0\.95 of 1 core/);
    assert.equal(decideBound({ ...workers, serverEventLoopUtilization: 0.95 }).side, 'server');
    assert.equal(decideBound({ ...workers, serverCpuCores: 1.5, serverCores: 2 }).side, 'none', 'two cores, three quarters used');
  });
});
