package org.laplacelora.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.laplacelora.schemas.avro.Label;
import org.laplacelora.schemas.avro.Question;

/** The in-process registry through the HTTP client, and its raw REST answers (Confluent's codes). */
class InProcessSchemaRegistryTest {
    private static final Schema V1 = new Schema.Parser().parse(
            "{\"type\":\"record\",\"name\":\"T\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}");
    private static final Schema V2_DEFAULT = new Schema.Parser().parse(
            "{\"type\":\"record\",\"name\":\"T\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\",\"type\":\"string\",\"default\":\"\"}]}");
    private static final Schema V2_NO_DEFAULT = new Schema.Parser().parse(
            "{\"type\":\"record\",\"name\":\"T\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\",\"type\":\"string\"}]}");

    private static HttpResponse<String> raw(String method, String url, String body) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/vnd.schemaregistry.v1+json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return HttpClient.newHttpClient().send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void registersLooksUpAndServesSchemas() throws Exception {
        try (InProcessSchemaRegistry server = InProcessSchemaRegistry.start(0, null)) {
            SchemaRegistry client = new HttpSchemaRegistry(RegistryConfig.of(server.url()));
            int id = client.register("t-value", V1);
            assertThat(client.register("t-value", V1)).isEqualTo(id);
            assertThat(client.register("other-value", V1)).as("same schema, same global id").isEqualTo(id);
            assertThat(client.lookup("t-value", V1)).isEqualTo(id);
            assertThat(client.byId(id)).isEqualTo(V1);
            int id2 = client.register("t-value", V2_DEFAULT);
            assertThat(id2).isNotEqualTo(id);
            assertThat(client.versions("t-value")).containsExactly(1, 2);
            SchemaRegistry.Version latest = client.latest("t-value");
            assertThat(latest.version()).isEqualTo(2);
            assertThat(latest.id()).isEqualTo(id2);
            assertThat(client.subjects()).containsExactly("other-value", "t-value");
            assertThat(client.compatible("t-value", V2_DEFAULT)).isTrue();
            assertThat(client.compatibility(null)).isEqualTo("BACKWARD");
            // BACKWARD checks the latest version only: v2 data carries "b", so a reader requiring it is fine ...
            assertThat(client.compatible("t-value", V2_NO_DEFAULT)).isTrue();
            // ... but not under BACKWARD_TRANSITIVE, where v1 data (no "b") must stay readable.
            client.setCompatibility("t-value", "BACKWARD_TRANSITIVE");
            assertThatThrownBy(() -> client.register("t-value", V2_NO_DEFAULT)).isInstanceOfSatisfying(
                    SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(409));
            client.register("fresh-value", V1);
            assertThatThrownBy(() -> client.register("fresh-value", V2_NO_DEFAULT)).isInstanceOfSatisfying(
                    SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(409));
            client.setCompatibility("t-value", "NONE");
            assertThat(client.compatibility("t-value")).isEqualTo("NONE");
            assertThat(client.register("t-value", V2_NO_DEFAULT)).isPositive();
            assertThat(client.delete("other-value")).containsExactly(1);
            assertThat(client.subjects()).containsExactly("fresh-value", "t-value");
            assertThat(client.register("q-value", Question.getClassSchema())).isPositive();
        }
    }

    @Test
    void errorsCarryConfluentsCodesAndStatuses() throws Exception {
        try (InProcessSchemaRegistry server = InProcessSchemaRegistry.start(0, null)) {
            String u = server.url();
            raw("POST", u + "/subjects/t-value/versions", "{\"schema\":" + quote(V1.toString()) + "}");
            assertError(raw("GET", u + "/subjects/nope/versions", null), 404, 40401);
            assertError(raw("GET", u + "/subjects/t-value/versions/7", null), 404, 40402);
            assertError(raw("GET", u + "/schemas/ids/99", null), 404, 40403);
            assertError(raw("POST", u + "/subjects/t-value", "{\"schema\":" + quote(V2_DEFAULT.toString()) + "}"), 404, 40403);
            assertError(raw("POST", u + "/subjects/t-value/versions", "{\"schema\":\"{not avro\"}"), 422, 42201);
            assertError(raw("GET", u + "/subjects/t-value/versions/zero", null), 422, 42202);
            assertError(raw("PUT", u + "/config", "{\"compatibility\":\"SIDEWAYS\"}"), 422, 42203);
            assertError(raw("POST", u + "/subjects/t-value/versions", "{\"schema\":" + quote(V2_NO_DEFAULT.toString()) + "}"), 409, 409);
            HttpResponse<String> ok = raw("POST", u + "/subjects/t-value", "{\"schema\":" + quote(V1.toString()) + "}");
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ok.body()).contains("\"subject\":\"t-value\"").contains("\"version\":1").contains("\"id\":1");
            assertThat(ok.headers().firstValue("Content-Type")).hasValue("application/vnd.schemaregistry.v1+json");
            HttpResponse<String> compat = raw("POST", u + "/compatibility/subjects/t-value/versions/latest",
                    "{\"schema\":" + quote(V2_DEFAULT.toString()) + "}");
            assertThat(compat.body()).isEqualTo("{\"is_compatible\":true}");
            assertThat(raw("PUT", u + "/config", "{\"compatibility\":\"FULL\"}").body()).isEqualTo("{\"compatibility\":\"FULL\"}");
            assertThat(raw("GET", u + "/config", null).body()).isEqualTo("{\"compatibilityLevel\":\"FULL\"}");
        }
    }

    private static void assertError(HttpResponse<String> r, int status, int code) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.body()).contains("\"error_code\":" + code).contains("\"message\":");
    }

    private static String quote(String s) throws Exception {
        return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(s);
    }

    @Test
    void aPersistedRegistryKeepsItsIdsAcrossRestarts(@TempDir Path dir) throws Exception {
        Path store = dir.resolve("registry.json");
        int id;
        try (InProcessSchemaRegistry server = InProcessSchemaRegistry.start(0, store)) {
            SchemaRegistry client = new HttpSchemaRegistry(RegistryConfig.of(server.url()));
            client.register("a-value", Label.getClassSchema());
            id = client.register("b-value", Question.getClassSchema());
            client.setCompatibility("b-value", "FULL");
        }
        try (InProcessSchemaRegistry server = InProcessSchemaRegistry.start(0, store)) {
            SchemaRegistry client = new HttpSchemaRegistry(RegistryConfig.of(server.url()));
            assertThat(client.byId(id)).isEqualTo(Question.getClassSchema());
            assertThat(client.lookup("b-value", Question.getClassSchema())).isEqualTo(id);
            assertThat(client.compatibility("b-value")).isEqualTo("FULL");
            assertThat(client.register("c-value", V1)).isEqualTo(id + 1);
        }
    }
}
