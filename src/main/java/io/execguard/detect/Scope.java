package io.execguard.detect;

/** Whether one container is affected, or the node as a whole. */
public enum Scope { Container, Node }
