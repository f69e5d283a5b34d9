import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { MongoClient, MongoServerError } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBinary } from '../../src/stack/binaries.js';
import { canConnect } from '../../src/stack/ports.js';
import { isAlive } from '../../src/stack/processes.js';
import { startServers, stopServers, type ServerInfo } from '../../src/stack/local.js';

const hostPort = (address: string): [string, number] => {
  const url = new URL(address.includes('://') ? address : `tcp://${address}`);
  return [url.hostname, Number(url.port)];
};

describe('local stack (real Temporal dev server + FerretDB)', () => {
  let tmp: string;
  let info: ServerInfo | undefined;
  const savedEnv = { TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS, MONGODB_URI: process.env.MONGODB_URI };

  beforeAll(async () => {
    delete process.env.TEMPORAL_ADDRESS;
    delete process.env.MONGODB_URI;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-stack-it-'));
    // First run on a machine builds both binaries with Go (minutes); later runs find them.
    await Promise.all([ensureBinary('temporal'), ensureBinary('ferretdb')]);
  }, 20 * 60_000);

  afterAll(async () => {
    Object.assign(process.env, savedEnv);
    for (const [k, v] of Object.entries(savedEnv)) if (v === undefined) delete process.env[k];
    if (info) await stopServers(info);
    fs.rmSync(tmp, { recursive: true, force: true });
  }, 30_000);

  it('starts both servers, serves real requests, and stops them', { timeout: 120_000 }, async () => {
    info = await startServers({ dataDir: path.join(tmp, 'data') });
    expect(info.temporalPid).toBeTypeOf('number');
    expect(info.ferretPid).toBeTypeOf('number');
    expect(info.temporalAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(info.mongoUri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
    expect(fs.existsSync(path.join(tmp, 'data', 'temporal.db'))).toBe(true);

    const connection = await Connection.connect({ address: info.temporalAddress });
    try {
      const { namespaces } = await connection.workflowService.listNamespaces({});
      expect(namespaces.map((n) => n.namespaceInfo?.name)).toContain('default');
    } finally {
      await connection.close();
    }

    const client = new MongoClient(info.mongoUri, { serverSelectionTimeoutMS: 5000 });
    try {
      await client.connect();
      const coll = client.db('conclave_it').collection<{ key: string; n: number }>('things');
      await coll.createIndex({ key: 1 }, { unique: true });
      await coll.insertOne({ key: 'a', n: 1 });
      expect(await coll.findOne({ key: 'a' }, { projection: { _id: 0 } })).toEqual({ key: 'a', n: 1 });
      const dup = await coll.insertOne({ key: 'a', n: 2 }).catch((e: unknown) => e);
      expect(dup).toBeInstanceOf(MongoServerError);
      expect((dup as MongoServerError).code).toBe(11000);
    } finally {
      await client.close();
    }

    // Env vars replace local servers: nothing is started, the given ones are only health-checked.
    process.env.TEMPORAL_ADDRESS = info.temporalAddress;
    process.env.MONGODB_URI = info.mongoUri;
    try {
      const external = await startServers({ dataDir: path.join(tmp, 'unused') });
      expect(external).toMatchObject({ temporalAddress: info.temporalAddress, mongoUri: info.mongoUri });
      expect(external.temporalPid).toBeUndefined();
      expect(external.ferretPid).toBeUndefined();
      await stopServers(external); // no pids: a no-op
      expect(isAlive(info.temporalPid!)).toBe(true);
    } finally {
      delete process.env.TEMPORAL_ADDRESS;
      delete process.env.MONGODB_URI;
    }

    const stopped = info;
    info = undefined;
    await stopServers(stopped);
    expect(isAlive(stopped.temporalPid!)).toBe(false);
    expect(isAlive(stopped.ferretPid!)).toBe(false);
    expect(await canConnect(...hostPort(stopped.temporalAddress))).toBe(false);
    expect(await canConnect(...hostPort(stopped.mongoUri))).toBe(false);
  });

  it('reports an unreachable external server clearly', { timeout: 30_000 }, async () => {
    process.env.TEMPORAL_ADDRESS = '127.0.0.1:1';
    process.env.MONGODB_URI = 'mongodb://127.0.0.1:1/';
    try {
      await expect(
        startServers({ dataDir: path.join(tmp, 'unused2'), timeoutMs: 1500 }),
      ).rejects.toMatchObject({
        code: 'STACK',
        message: expect.stringMatching(
          /Temporal at 127\.0\.0\.1:1 is not answering: .+\nMongoDB at mongodb:\/\/127\.0\.0\.1:1\/ is not answering: .+/,
        ),
      });
    } finally {
      delete process.env.TEMPORAL_ADDRESS;
      delete process.env.MONGODB_URI;
    }
  });
});
