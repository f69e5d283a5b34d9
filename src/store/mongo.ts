/** One MongoClient per URI per process; databases are cheap handles on it. */
import { MongoClient, MongoServerError, type Db } from 'mongodb';
import type { DbLocation } from '../config.js';

const clients = new Map<string, Promise<MongoClient>>();

export async function openDb(location: DbLocation): Promise<Db> {
  let client = clients.get(location.uri);
  if (!client) {
    client = new MongoClient(location.uri, { serverSelectionTimeoutMS: 10_000 }).connect();
    clients.set(location.uri, client);
    client.catch(() => clients.delete(location.uri));
  }
  return (await client).db(location.name);
}

export async function closeAllDbs(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  await Promise.all(all.map(async (c) => (await c).close().catch(() => undefined)));
}

export function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === 11000;
}
