/** Every scenario, in the order the runner takes them; their names are what --only takes. */
import { driverRestartScenario } from './driver-restart.js';
import { mountStormScenario } from './mount-storm.js';
import { mountScenario } from './mount.js';
import { podDeletionScenario } from './pod-deletion.js';
import { providerOutageScenario } from './provider-outage.js';
import { rotationScenario } from './rotation.js';
import type { Scenario } from './scenario.js';
import { syncScenario } from './sync.js';

export const allScenarios: Scenario[] = [mountScenario, syncScenario, rotationScenario, podDeletionScenario, providerOutageScenario, mountStormScenario, driverRestartScenario];
