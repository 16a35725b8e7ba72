/**
 * The scenarios against the user's provider (`scenarios run --provider NAME=SOCKET --spc
 * FILE`), in the order and under the names of the fake provider's: those that need no fault
 * injection and no control API run provider-agnostic variants; rotation and provider-outage
 * are reported skipped with the reason.
 */
import { providerOutageScenario } from '../provider-outage.js';
import { rotationScenario } from '../rotation.js';
import type { Scenario } from '../scenario.js';
import { needsFake, type ByoTarget } from './byo-target.js';
import { byoDriverRestartScenario } from './driver-restart.js';
import { byoMountStormScenario } from './mount-storm.js';
import { byoMountScenario } from './mount.js';
import { byoPodDeletionScenario } from './pod-deletion.js';
import { byoSyncScenario } from './sync.js';

export function byoScenarios(t: ByoTarget): Scenario[] {
  return [
    byoMountScenario(t),
    byoSyncScenario(t),
    { ...rotationScenario, skip: needsFake('to change objects', t.provider.name) },
    byoPodDeletionScenario(t),
    { ...providerOutageScenario, skip: needsFake('and process to inject an outage', t.provider.name) },
    byoMountStormScenario(t),
    byoDriverRestartScenario(t),
  ];
}
