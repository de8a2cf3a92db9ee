package io.execguard.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

/**
 * The samples in crd/samples parse into our classes without loss. Whether they, and broken variants
 * of them, pass the CRD schema is for the real API server to say: see CrdSchemaKubeIT.
 */
class SampleValidationTest {

    static final KubernetesSerialization SERDE = new KubernetesSerialization();
    static final String NEH_SAMPLE = "nodeexechealth-unhealthy.yaml";
    static final String EHP_SAMPLE = "exechealthpolicy.yaml";

    static String sampleText(String name) throws IOException {
        return Files.readString(Crds.SAMPLES_DIR.resolve(name));
    }

    static ObjectNode sample(String name) throws IOException {
        return (ObjectNode) SERDE.unmarshal(sampleText(name), JsonNode.class);
    }

    @Test
    void samplesRoundTripThroughTheJavaClassesWithoutLoss() throws IOException {
        ObjectNode neh = sample(NEH_SAMPLE);
        NodeExecHealth n = SERDE.unmarshal(sampleText(NEH_SAMPLE), NodeExecHealth.class);
        assertEquals(normalized(neh), normalized(n), "NodeExecHealth sample vs the Java classes");
        assertEquals(Phase.Unhealthy, n.getStatus().getPhase());
        assertEquals(4, n.getStatus().getFindings().size());
        assertEquals(Action.Annotate, n.getStatus().getRemediation().getAction());

        ObjectNode ehp = sample(EHP_SAMPLE);
        ExecHealthPolicy p = SERDE.unmarshal(sampleText(EHP_SAMPLE), ExecHealthPolicy.class);
        assertEquals(normalized(ehp), normalized(p), "ExecHealthPolicy sample vs the Java classes");
        assertEquals(new IntOrString("10%"), p.getSpec().getMaxUnhealthy());
        assertEquals(2, p.getSpec().maxUnhealthyNodes(20), "the sample's 10% as the controller reads it");
    }

    /** As JSON text and back: the same numbers compare equal whatever Java type held them. */
    private static JsonNode normalized(Object o) {
        return SERDE.unmarshal(SERDE.asJson(o), JsonNode.class);
    }
}
