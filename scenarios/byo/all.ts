/**
 * The scenarios against the user's provider (`scenarios run --provider NAME=SOCKET --spc
 * FILE [--provider-cmd CMD] [--rotate-cmd CMD]`), in the order and under the names of the
 * fake provider's. Faults go through the fault proxy in front of the provider; rotation
 * needs --rotate-cmd (skipped without it, saying so), a real outage --provider-cmd.
 */
import type { Scenario } from '../scenario.js';
import type { ByoTarget } from './byo-target.js';
import { byoDriverRestartScenario } from './driver-restart.js';
import { byoMountStormScenario } from './mount-storm.js';
import { byoMountScenario } from './mount.js';
import { byoPodDeletionScenario } from './pod-deletion.js';
import { byoProviderOutageScenario } from './provider-outage.js';
import { byoRotationScenario } from './rotation.js';
import { byoSyncScenario } from './sync.js';

export function byoScenarios(t: ByoTarget): Scenario[] {
  return [
    byoMountScenario(t),
    byoSyncScenario(t),
    byoRotationScenario(t),
    byoPodDeletionScenario(t),
    byoProviderOutageScenario(t),
    byoMountStormScenario(t),
    byoDriverRestartScenario(t),
  ];
}
