package io.execguard.kube;

import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;

/**
 * One API call as a row of a permission table: what was tried, what the server answered (HTTP code and
 * the Status message). Calls are made with the client of the identity under test; nothing is mocked.
 */
record ApiCall(String call, int code, String message) {

    /** What a row is expected to get. */
    enum Expect { ALLOWED, REFUSED }

    /** A call through the fabric8 DSL; success is 200, a KubernetesClientException gives the server's code. */
    static ApiCall of(String call, Runnable r) {
        try {
            r.run();
            return new ApiCall(call, 200, "");
        } catch (KubernetesClientException e) {
            String m = e.getStatus() != null && e.getStatus().getMessage() != null ? e.getStatus().getMessage()
                    : e.getMessage();
            return new ApiCall(call, e.getCode(), m);
        }
    }

    /** A raw request (for subresources the DSL hides: pods/exec, pods/eviction, serviceaccounts/token). */
    static ApiCall raw(KubernetesClient client, String method, String path, String jsonBody) {
        String url = client.getMasterUrl().toString().replaceAll("/$", "") + path;
        HttpRequest.Builder b = client.getHttpClient().newHttpRequestBuilder().uri(url);
        HttpRequest req = jsonBody == null ? b.method(method, "application/json", "").build()
                : b.method(method, "PATCH".equals(method) ? "application/merge-patch+json" : "application/json", jsonBody).build();
        try {
            HttpResponse<String> res = client.getHttpClient().sendAsync(req, String.class).get(30, TimeUnit.SECONDS);
            return new ApiCall(method + " " + path.replaceAll("\\?.*", ""), res.code(), message(res.body()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError(method + " " + path + " failed: " + e, e);
        }
    }

    private static String message(String body) {
        if (body == null) {
            return "";
        }
        var m = java.util.regex.Pattern.compile("\"message\":\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(body);
        return m.find() ? m.group(1).replace("\\\"", "\"") : body.length() > 200 ? body.substring(0, 200) : body;
    }

    boolean allowed() {
        return code / 100 == 2;
    }

    /** The rows as a fixed-width table (for the test output). */
    static String table(String title, List<Row> rows) {
        StringBuilder sb = new StringBuilder(title).append('\n');
        sb.append(String.format("%-9s %-4s %-62s %s%n", "EXPECT", "CODE", "CALL", "SERVER SAYS"));
        for (Row r : rows) {
            String msg = r.result().message();
            sb.append(String.format("%-9s %-4d %-62s %s%n", r.expect(), r.result().code(), r.result().call(),
                    msg.length() > 150 ? msg.substring(0, 150) + "…" : msg));
        }
        return sb.toString();
    }

    /** A table row: the expectation and what happened. */
    record Row(Expect expect, ApiCall result) {
        boolean asExpected() {
            return expect == Expect.ALLOWED ? result.allowed() : result.code() == 403;
        }
    }
}
