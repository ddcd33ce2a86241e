// FHIR R4 XML -> JSON with HAPI FHIR's own parsers (the reference implementation), strictly:
// an element the R4 model does not know is an error, never silently dropped.
//   java -cp "tests/fhir-server/target/dependency/*" ukcore/XmlToJson.java OUT_DIR FILE.xml...
// Writes OUT_DIR/<same name>.json for each file; build.py calls it.
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.StrictErrorHandler;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.hl7.fhir.instance.model.api.IBaseResource;

public class XmlToJson {
    public static void main(String[] args) throws Exception {
        FhirContext ctx = FhirContext.forR4();
        ctx.setParserErrorHandler(new StrictErrorHandler());
        IParser xml = ctx.newXmlParser();
        IParser json = ctx.newJsonParser().setPrettyPrint(false);
        Path out = Path.of(args[0]);
        Files.createDirectories(out);
        for (int i = 1; i < args.length; i++) {
            Path source = Path.of(args[i]);
            IBaseResource resource = xml.parseResource(Files.readString(source, StandardCharsets.UTF_8));
            String name = source.getFileName().toString().replaceFirst("\\.xml$", ".json");
            Files.writeString(out.resolve(name), json.encodeResourceToString(resource), StandardCharsets.UTF_8);
        }
    }
}
