package io.execguard.api;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.annotation.JsonClassDescription;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crdv2.generator.CRDGenerator;
import io.fabric8.crdv2.generator.CRDPostProcessor;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.client.utils.Serialization;

/** Test support: the CRDs as fabric8's crd-generator v2 produces them from the api classes, and the committed copies. */
final class Crds {

    /** The committed CRDs and samples, relative to the project base directory. */
    static final Path CRD_DIR = baseDir().resolve("crd");
    static final Path SAMPLES_DIR = CRD_DIR.resolve("samples");

    static final String NEH_FILE = NodeExecHealth.CRD_NAME + "-v1.yml";
    static final String EHP_FILE = ExecHealthPolicy.CRD_NAME + "-v1.yml";

    private Crds() {
    }

    static Path baseDir() {
        return Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
    }

    /** Generates the v1 CRDs into {@code dir}; returns file name to content, sorted by name. */
    static Map<String, String> generate(Path dir) {
        try {
            Files.createDirectories(dir);
            int n = new CRDGenerator()
                    .inOutputDir(dir.toFile())
                    .forCRDVersions("v1")
                    .withParallelGenerationEnabled(false)
                    .withPostProcessor(new CRDPostProcessor() {
                        @Override
                        public HasMetadata process(HasMetadata crd, String crdSpecVersion) {
                            return postProcess(crd);
                        }
                    })
                    .customResourceClasses(NodeExecHealth.class, ExecHealthPolicy.class)
                    .generate();
            if (n != 2) {
                throw new IllegalStateException("expected 2 CRDs, generated " + n);
            }
            return readYamls(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Two things the generator does not do on its own, both taken from the classes: printer columns
     * in the order the {@code @AdditionalPrinterColumn} annotations are declared (the generator sorts
     * them by JSON path, and kubectl shows them in CRD order), and the resource's own description
     * (its {@code @JsonClassDescription}) on the root schema, so {@code kubectl explain} has it.
     */
    static HasMetadata postProcess(HasMetadata crd) {
        CustomResourceDefinition def = (CustomResourceDefinition) crd;
        Class<?> type = switch (def.getMetadata().getName()) {
            case NodeExecHealth.CRD_NAME -> NodeExecHealth.class;
            case ExecHealthPolicy.CRD_NAME -> ExecHealthPolicy.class;
            default -> throw new IllegalStateException("unexpected CRD " + def.getMetadata().getName());
        };
        List<String> order = Arrays.stream(type.getAnnotationsByType(AdditionalPrinterColumn.class))
                .map(AdditionalPrinterColumn::name).toList();
        JsonClassDescription description = type.getAnnotation(JsonClassDescription.class);
        for (CustomResourceDefinitionVersion v : def.getSpec().getVersions()) {
            List<CustomResourceColumnDefinition> columns = new ArrayList<>(v.getAdditionalPrinterColumns());
            columns.sort(Comparator.comparingInt(c -> order.indexOf(c.getName())));
            v.setAdditionalPrinterColumns(columns);
            if (description != null) {
                v.getSchema().getOpenAPIV3Schema().setDescription(description.value());
            }
        }
        return def;
    }

    /** The *.yml files directly in {@code dir} (not in subdirectories), by name. */
    static Map<String, String> readYamls(Path dir) throws IOException {
        Map<String, String> files = new TreeMap<>();
        if (!Files.isDirectory(dir)) {
            return files;
        }
        try (var s = Files.list(dir)) {
            for (Path p : s.filter(Files::isRegularFile).filter(p -> p.toString().endsWith(".yml")).toList()) {
                files.put(p.getFileName().toString(), Files.readString(p));
            }
        }
        return files;
    }

    /** Parses a committed CRD file. */
    static CustomResourceDefinition load(String fileName) {
        try {
            return Serialization.unmarshal(Files.readString(CRD_DIR.resolve(fileName)), CustomResourceDefinition.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<String> fileNames() {
        return List.of(EHP_FILE, NEH_FILE);
    }
}
