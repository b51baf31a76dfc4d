import { startRedis } from './brokers.js';
import { runServersSuite } from './servers.js';

runServersSuite('Redis', await startRedis());
