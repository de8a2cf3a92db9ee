package io.execguard.repair;

import java.time.Instant;

/**
 * A repair that was carried out (or, in dry run, would have been), with its outcome.
 *
 * @param seq    increasing number within this probe process, for "new since last time"
 * @param time   when it was attempted
 * @param action what and why
 * @param result Done, DryRun or Failed
 * @param detail what happened (the error for Failed)
 */
public record Repair(long seq, Instant time, RepairAction action, Result result, String detail) {

    public enum Result { Done, DryRun, Failed }
}
