package uk.wb.fhirserver;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * {@code /fhir/.well-known/smart-configuration}: SMART discovery for this FHIR base URL, as the
 * authorization server publishes it for itself (read from it on each request). Test server only.
 */
public class SmartConfigurationServlet extends HttpServlet {

	private final URI source;
	private final transient HttpClient http =
			HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

	public SmartConfigurationServlet(String issuer) {
		this.source = URI.create(issuer.replaceAll("/+$", "") + "/.well-known/smart-configuration");
	}

	@Override
	protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
		HttpRequest get = HttpRequest.newBuilder(source).timeout(Duration.ofSeconds(20)).GET().build();
		HttpResponse<byte[]> answer;
		try {
			answer = http.send(get, HttpResponse.BodyHandlers.ofByteArray());
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
			response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
			return;
		} catch (IOException e) {
			response.sendError(HttpServletResponse.SC_BAD_GATEWAY, "the authorization server is not reachable");
			return;
		}
		if (answer.statusCode() != 200) {
			response.sendError(HttpServletResponse.SC_BAD_GATEWAY, "the authorization server answered " + answer.statusCode());
			return;
		}
		response.setContentType("application/json");
		response.setHeader("Cache-Control", "no-store");
		response.getOutputStream().write(answer.body());
	}
}
