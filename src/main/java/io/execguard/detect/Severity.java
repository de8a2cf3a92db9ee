package io.execguard.detect;

public enum Severity { Warning, Critical }
