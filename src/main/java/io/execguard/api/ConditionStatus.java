package io.execguard.api;

/** The status of a Kubernetes condition (the API's strings {@code True}, {@code False}, {@code Unknown}). */
public enum ConditionStatus {
    True, False, Unknown;

    /** The status a condition carries, or null when the string is absent or not one of the three. */
    public static ConditionStatus of(String s) {
        if (s == null) {
            return null;
        }
        return switch (s) {
            case "True" -> True;
            case "False" -> False;
            case "Unknown" -> Unknown;
            default -> null;
        };
    }
}
