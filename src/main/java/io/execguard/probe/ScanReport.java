package io.execguard.probe;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import io.execguard.detect.Finding;
import io.execguard.host.HostInfo;

/**
 * The result of one scan: the JSON document {@code scan --output json} prints.
 *
 * @param warnings input that was unreadable or garbled and skipped (printed to stderr, not in JSON)
 */
@JsonPropertyOrder({"host", "tasksScanned", "durationMillis", "findings"})
public record ScanReport(HostInfo host, int tasksScanned, long durationMillis, List<Finding> findings,
                         @JsonIgnore List<String> warnings) {
}
