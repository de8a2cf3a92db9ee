package io.execguard.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.execguard.api.NodeExecHealth;

/**
 * README's {@code kubectl get nodeexechealth} and {@code -o yaml} examples are what the release's kubectl prints on
 * the node e2e's cluster while an exec hangs on a frozen FUSE volume and the operator holds the node. With
 * {@code -Dexecguard.golden.update=true} the run rewrites docs/examples/node-e2e-* and README's blocks between
 * {@code <!-- node-e2e:NAME -->} markers; otherwise it fails when README differs from the live output in anything
 * but values that change from run to run (times, ages, ids, pids, counts) and line breaks.
 */
final class ReadmeExamples {

    static final Path README = Path.of("README.md");
    static final Path EXAMPLES = Path.of("docs/examples");
    static final int YAML_EXCERPT_LINES = 60;

    private ReadmeExamples() {
    }

    static void capture(NodeE2E e2e, NodeExecHealth report) throws Exception {
        String table = "$ kubectl get nodeexechealth\n"
                + e2e.kubectl(Duration.ofSeconds(20), "get", "nodeexechealth").stdout();
        String yaml = e2e.kubectl(Duration.ofSeconds(20), "get", "nodeexechealth", e2e.node(), "-o", "yaml").stdout();
        String excerpt = "$ kubectl get nodeexechealth " + e2e.node() + " -o yaml\n" + excerpt(yaml);
        System.out.println("[node-e2e] README example:\n" + table + excerpt);
        boolean foreign = !ExecLoopNodeIT.foreign(report).isEmpty();
        if (Boolean.getBoolean("execguard.golden.update")) {
            if (foreign) {
                throw new AssertionError("not updating README from a report with other tenants' findings in it");
            }
            Files.createDirectories(EXAMPLES);
            Files.writeString(EXAMPLES.resolve("node-e2e-kubectl-get.txt"), table);
            Files.writeString(EXAMPLES.resolve("node-e2e-exec-stuck.yaml"), yaml);
            String readme = Files.readString(README, StandardCharsets.UTF_8);
            readme = replaceBlock(readme, "get", table);
            readme = replaceBlock(readme, "yaml", excerpt);
            Files.writeString(README, readme);
            return;
        }
        if (foreign) {
            System.out.println("[node-e2e] README comparison skipped: the report has other tenants' findings");
            return;
        }
        String readme = Files.readString(README, StandardCharsets.UTF_8);
        for (String[] block : new String[][] {{"get", table}, {"yaml", excerpt}}) {
            List<String> shown = blocks(readme, block[0]);
            if (shown.isEmpty()) {
                throw new AssertionError("README.md has no <!-- node-e2e:" + block[0] + " --> block");
            }
            for (String s : shown) {
                assertEquals(normalize(block[1]), normalize(s), "README's node-e2e:" + block[0] + " example differs from "
                        + "this cluster's output; refresh: -Dexecguard.golden.update=true (docs/TESTING.md)");
            }
        }
    }

    /** The report down to the first finding's kernel stack (its message, the rest of it and of the status elided). */
    static String excerpt(String yaml) {
        int findings = yaml.indexOf("\n  findings:\n");
        int message = findings < 0 ? -1 : yaml.indexOf("\n    message: ", findings);
        if (message < 0) {
            return String.join("\n", yaml.lines().limit(YAML_EXCERPT_LINES).toList()) + "\n...\n";
        }
        return yaml.substring(0, message + 1) + "    ...\n";
    }

    private static Pattern block(String name) {
        return Pattern.compile("(<!-- node-e2e:" + name + " -->\n```\n)(.*?)(```\n<!-- /node-e2e:" + name + " -->)",
                Pattern.DOTALL);
    }

    static List<String> blocks(String readme, String name) {
        return block(name).matcher(readme).results().map(m -> m.group(2)).toList();
    }

    static String replaceBlock(String readme, String name, String content) {
        Matcher m = block(name).matcher(readme);
        if (!m.find()) {
            throw new AssertionError("README.md has no <!-- node-e2e:" + name + " --> block to update");
        }
        return block(name).matcher(readme).replaceAll(r -> Matcher.quoteReplacement(r.group(1) + content + r.group(3)));
    }

    /** What stays the same from run to run: values masked, columns' padding collapsed. */
    static String normalize(String s) {
        return s.replaceAll("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z", "TIME")
                .replaceAll("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UID")
                .replaceAll("\\b(0x)?[0-9a-f]{8,}\\b", "HEX")
                .replaceAll("\\b\\d+(\\.\\d+)?[smhd](\\d+[smhd])*\\b", "DUR")
                .replaceAll("\\d+", "N")
                .replaceAll("\\s+", " ")
                .strip();
    }

    static String read(Path p) throws IOException {
        return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
    }
}
