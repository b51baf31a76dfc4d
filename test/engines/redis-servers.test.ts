import { redisChannelKeys, startRedis } from './brokers.js';
import { runServersSuite } from './servers.js';

runServersSuite('Redis', await startRedis(), {}, redisChannelKeys);
