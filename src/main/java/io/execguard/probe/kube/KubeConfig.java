package io.execguard.probe.kube;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * Where the probe's API server is and how it authenticates: in a pod, from {@code KUBERNETES_SERVICE_HOST} /
 * {@code KUBERNETES_SERVICE_PORT} and the mounted service account ({@code token}, re-read as it rotates,
 * {@code ca.crt}); else from the first file of {@code KUBECONFIG} (its current context: {@code server},
 * {@code certificate-authority[-data]} or {@code insecure-skip-tls-verify}, {@code token} or {@code tokenFile}).
 * Proxy from {@code HTTPS_PROXY} / {@code NO_PROXY}.
 *
 * @param verifyHostname false only with {@code insecure-skip-tls-verify}
 */
public record KubeConfig(URI server, SSLSocketFactory tls, boolean verifyHostname, TokenSource tokens,
                         ProxySettings proxy) {

    public static final Path SERVICE_ACCOUNT = Path.of("/var/run/secrets/kubernetes.io/serviceaccount");

    /** A server trusted through the PEM CA bundle given, hostname verified. */
    public static KubeConfig of(URI server, byte[] caPem, TokenSource tokens, ProxySettings proxy) {
        return new KubeConfig(server, trusting(caPem), true, tokens, proxy);
    }

    /** KUBECONFIG when set (tests, running outside a cluster), else the in-cluster service account. */
    public static KubeConfig fromEnv(Map<String, String> env, Clock clock) {
        String kubeconfig = env.get("KUBECONFIG");
        if (kubeconfig != null && !kubeconfig.isBlank()) {
            Path file = Path.of(kubeconfig.split(java.io.File.pathSeparator)[0]);
            return fromKubeconfig(file, ProxySettings.fromEnv(env), clock);
        }
        return inCluster(env, SERVICE_ACCOUNT, clock);
    }

    static KubeConfig inCluster(Map<String, String> env, Path serviceAccount, Clock clock) {
        String host = env.get("KUBERNETES_SERVICE_HOST");
        String port = env.getOrDefault("KUBERNETES_SERVICE_PORT", "443");
        if (host == null || host.isBlank()) {
            throw new IllegalStateException("not in a cluster (KUBERNETES_SERVICE_HOST unset) and KUBECONFIG unset");
        }
        String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        return new KubeConfig(URI.create("https://" + h + ":" + port.trim()),
                trusting(read(serviceAccount.resolve("ca.crt"))), true,
                TokenSource.file(serviceAccount.resolve("token"), clock), ProxySettings.fromEnv(env));
    }

    @SuppressWarnings("unchecked")
    static KubeConfig fromKubeconfig(Path file, ProxySettings proxy, Clock clock) {
        Map<String, Object> root;
        try {
            byte[] bytes = Files.readAllBytes(file);
            String text = new String(bytes, java.nio.charset.StandardCharsets.UTF_8).strip();
            // JSON (a kubeconfig may be JSON) without the YAML library; YAML through snakeyaml (in the jar for the
            // operator), which the in-cluster probe never loads
            root = text.startsWith("{") ? new com.fasterxml.jackson.databind.ObjectMapper().readValue(bytes, Map.class)
                    : (Map<String, Object>) new org.yaml.snakeyaml.Yaml(new org.yaml.snakeyaml.constructor
                            .SafeConstructor(new org.yaml.snakeyaml.LoaderOptions())).load(text);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kubeconfig " + file, e);
        }
        Map<String, Object> context = named(root, "contexts", (String) root.get("current-context"), "context");
        Map<String, Object> cluster = named(root, "clusters", (String) context.get("cluster"), "cluster");
        Map<String, Object> user = named(root, "users", (String) context.get("user"), "user");
        Path dir = file.toAbsolutePath().getParent();
        boolean insecure = Boolean.TRUE.equals(cluster.get("insecure-skip-tls-verify"));
        SSLSocketFactory tls;
        if (insecure) {
            tls = trustingAll();
        } else if (cluster.get("certificate-authority-data") != null) {
            tls = trusting(Base64.getMimeDecoder().decode((String) cluster.get("certificate-authority-data")));
        } else if (cluster.get("certificate-authority") != null) {
            tls = trusting(read(dir.resolve((String) cluster.get("certificate-authority"))));
        } else {
            tls = (SSLSocketFactory) SSLSocketFactory.getDefault();
        }
        TokenSource tokens;
        if (user.get("tokenFile") != null) {
            tokens = TokenSource.file(dir.resolve((String) user.get("tokenFile")), clock);
        } else if (user.get("token") != null) {
            tokens = TokenSource.fixed((String) user.get("token"));
        } else if (user.get("client-certificate") != null || user.get("client-certificate-data") != null) {
            throw new IllegalArgumentException(file + ": client certificates are not supported by the probe (it "
                    + "authenticates with service-account tokens): use token or tokenFile");
        } else {
            tokens = TokenSource.none();
        }
        return new KubeConfig(URI.create((String) cluster.get("server")), tls, !insecure, tokens, proxy);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> named(Map<String, Object> root, String list, String name, String field) {
        Object items = root.get(list);
        if (items instanceof List<?> l) {
            for (Object o : l) {
                Map<String, Object> m = (Map<String, Object>) o;
                if (name == null || name.equals(m.get("name"))) {
                    Object v = m.get(field);
                    return v == null ? Map.of() : (Map<String, Object>) v;
                }
            }
        }
        throw new IllegalArgumentException("kubeconfig: no " + field + " named '" + name + "' in " + list);
    }

    private static byte[] read(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + p, e);
        }
    }

    /** TLS trusting exactly the PEM certificates given (the cluster CA). */
    static SSLSocketFactory trusting(byte[] pem) {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            int i = 0;
            for (Certificate c : CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(pem))) {
                ks.setCertificateEntry("ca-" + i++, c);
            }
            if (i == 0) {
                throw new IllegalArgumentException("no certificate in the CA bundle");
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx.getSocketFactory();
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot load the cluster CA: " + e, e);
        }
    }

    private static SSLSocketFactory trustingAll() {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, new TrustManager[] {new X509TrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, null);
            return ctx.getSocketFactory();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
