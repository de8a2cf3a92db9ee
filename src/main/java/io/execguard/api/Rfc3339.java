package io.execguard.api;

import java.io.IOException;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.jsonFormatVisitors.JsonFormatVisitorWrapper;
import com.fasterxml.jackson.databind.jsonFormatVisitors.JsonStringFormatVisitor;
import com.fasterxml.jackson.databind.jsonFormatVisitors.JsonValueFormat;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;

/**
 * Marks a {@code String} field as an RFC 3339 timestamp. It is written unchanged; what it adds is
 * the schema: the CRD generator asks the serializer for the value's JSON format, and this answers
 * {@code date-time}, so the generated CRD says {@code format: date-time} and the API server refuses
 * a value that is not an RFC 3339 date-time. Use as {@code @JsonSerialize(using = Rfc3339.class)}.
 */
public final class Rfc3339 extends StdSerializer<String> {

    public Rfc3339() {
        super(String.class);
    }

    @Override
    public void serialize(String value, JsonGenerator gen, SerializerProvider provider) throws IOException {
        gen.writeString(value);
    }

    @Override
    public void acceptJsonFormatVisitor(JsonFormatVisitorWrapper visitor, JavaType hint) throws JsonMappingException {
        JsonStringFormatVisitor v = visitor.expectStringFormat(hint);
        if (v != null) {
            v.format(JsonValueFormat.DATE_TIME);
        }
    }
}
