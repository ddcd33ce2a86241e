package uk.wb.fhirserver;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.IPreResourceShowDetails;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.AuthenticationException;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.util.FhirTerser;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.ConfigurableJWTProcessor;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.net.URL;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;

/**
 * Refuses every request (but the CapabilityStatement) without a valid SMART access token from
 * one authorization server: a JWT signed by a key of its JWKS (RS256/RS384/ES256/ES384),
 * {@code iss} the server, {@code aud} this FHIR base URL, not expired (5 s of clock skew).
 *
 * <p>Scopes: SMART v2 {@code patient/Observation.cru} and v1 {@code patient/Observation.write}
 * ({@code read} = rs, {@code write} = cud, {@code *} = all), at patient, user or system level.
 * Each interaction needs its letter on its type: read and history r, search s, create c, update
 * and patch u, delete d. Inside transactions every stored resource is checked as it is stored,
 * and every resource shown as it is shown. Patient-level scopes also need the token's
 * {@code patient} claim, and then a resource that belongs to another patient's compartment is
 * refused (a resource in no patient's compartment, such as a Provenance of the map, is allowed).
 *
 * <p>Test server only: enabled by {@code WB_FHIR_AUTH_ISSUER} (see TestFhirServer).
 */
@Interceptor
public class SmartAuthInterceptor {

	private static final String GRANT = SmartAuthInterceptor.class.getName() + ".grant";
	private static final Pattern V2 = Pattern.compile("^(patient|user|system)/(\\*|[A-Za-z]+)\\.([cruds]+)$");
	private static final Pattern V1 = Pattern.compile("^(patient|user|system)/(\\*|[A-Za-z]+)\\.(read|write|\\*)$");

	private final FhirContext ctx;
	private final ConfigurableJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();

	public SmartAuthInterceptor(FhirContext ctx, String issuer, URL jwks) {
		this.ctx = ctx;
		JWKSource<SecurityContext> keys = JWKSourceBuilder.<SecurityContext>create(jwks).retrying(true).build();
		Set<JWSAlgorithm> algorithms = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.ES256, JWSAlgorithm.ES384);
		processor.setJWSKeySelector(new JWSVerificationKeySelector<>(algorithms, keys));
		// RFC 9068 access tokens say typ "at+jwt"; plain JWTs (and none) are accepted too
		processor.setJWSTypeVerifier(
				new DefaultJOSEObjectTypeVerifier<>(new JOSEObjectType("at+jwt"), JOSEObjectType.JWT, null));
		DefaultJWTClaimsVerifier<SecurityContext> verifier = new DefaultJWTClaimsVerifier<>(
				new JWTClaimsSet.Builder().issuer(issuer).build(), Set.of("exp", "aud", "scope"));
		verifier.setMaxClockSkew(5);
		processor.setJWTClaimsSetVerifier(verifier);
	}

	/** One access token's permissions. */
	record Permission(String level, String type, Set<Character> actions) {}

	record Grant(List<Permission> permissions, String patient) {

		/** Whether the token allows the action on the type, and whether only at patient level. */
		Access access(String type, char action) {
			boolean patientLevel = false;
			for (Permission p : permissions) {
				if ((p.type().equals("*") || p.type().equals(type)) && p.actions().contains(action)) {
					if (!p.level().equals("patient")) {
						return Access.ALL;
					}
					patientLevel = true;
				}
			}
			return patientLevel ? Access.PATIENT : Access.NONE;
		}
	}

	enum Access {
		NONE,
		PATIENT,
		ALL
	}

	@Hook(Pointcut.SERVER_INCOMING_REQUEST_PRE_HANDLED)
	public void incoming(RequestDetails request, RestOperationTypeEnum operation) {
		if (operation == RestOperationTypeEnum.METADATA) {
			return;
		}
		Grant grant = authenticate(request);
		request.getUserData().put(GRANT, grant);
		String type = request.getResourceName();
		switch (operation) {
			case READ, VREAD, HISTORY_INSTANCE -> require(grant, type, 'r');
			case SEARCH_TYPE, HISTORY_TYPE -> require(grant, type, 's');
			case CREATE -> require(grant, type, 'c');
			case UPDATE, PATCH -> require(grant, type, 'u');
			case DELETE -> require(grant, type, 'd');
			case TRANSACTION, BATCH -> {
				// each entry is checked as it is stored or shown
			}
			default -> throw new ForbiddenOperationException(
					"the operation " + operation.getCode() + " is not allowed with a SMART access token");
		}
	}

	@Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_CREATED)
	public void created(IBaseResource resource, RequestDetails request) {
		check(request, resource, 'c');
	}

	@Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_UPDATED)
	public void updated(IBaseResource previous, IBaseResource resource, RequestDetails request) {
		check(request, previous, 'u');
		check(request, resource, 'u');
	}

	@Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_DELETED)
	public void deleted(IBaseResource resource, RequestDetails request) {
		check(request, resource, 'd');
	}

	@Hook(Pointcut.STORAGE_PRESHOW_RESOURCES)
	public void shown(IPreResourceShowDetails details, RequestDetails request) {
		if (request == null || !(request.getUserData().get(GRANT) instanceof Grant grant)) {
			return;
		}
		RestOperationTypeEnum operation = request.getRestOperationType();
		if (operation == RestOperationTypeEnum.CREATE
				|| operation == RestOperationTypeEnum.UPDATE
				|| operation == RestOperationTypeEnum.PATCH) {
			return; // the resource just written, already checked as it was stored
		}
		for (int i = 0; i < details.size(); i++) {
			IBaseResource resource = details.getResource(i);
			if (resource == null) {
				continue;
			}
			String type = ctx.getResourceType(resource);
			Access read = grant.access(type, 'r');
			Access search = grant.access(type, 's');
			Access access = read == Access.ALL || search == Access.ALL
					? Access.ALL
					: read == Access.PATIENT || search == Access.PATIENT ? Access.PATIENT : Access.NONE;
			if (access == Access.NONE) {
				throw new ForbiddenOperationException("the access token does not allow reading " + type);
			}
			if (access == Access.PATIENT) {
				inCompartment(grant, resource, type);
			}
		}
	}

	private void check(RequestDetails request, IBaseResource resource, char action) {
		if (request == null || resource == null || !(request.getUserData().get(GRANT) instanceof Grant grant)) {
			return; // the server's own work (no incoming request)
		}
		String type = ctx.getResourceType(resource);
		if (require(grant, type, action) == Access.PATIENT) {
			inCompartment(grant, resource, type);
		}
	}

	private static Access require(Grant grant, String type, char action) {
		Access access = grant.access(type, action);
		if (access == Access.NONE) {
			throw new ForbiddenOperationException(
					"the access token lacks a scope allowing '" + action + "' on " + type + " (e.g. patient/" + type
							+ "." + action + ")");
		}
		return access;
	}

	private void inCompartment(Grant grant, IBaseResource resource, String type) {
		if (grant.patient() == null) {
			throw new ForbiddenOperationException("a patient-level scope needs a patient in the access token");
		}
		if (type.equals("Patient")) {
			String id = resource.getIdElement().getIdPart();
			if (!grant.patient().equals(id)) {
				throw new ForbiddenOperationException("the access token is for another patient");
			}
			return;
		}
		FhirTerser terser = ctx.newTerser();
		for (IIdType owner : terser.getCompartmentOwnersForResource("Patient", resource, Collections.emptySet())) {
			String value = owner.getValue();
			if (value == null || value.contains("?") || value.startsWith("urn:")) {
				continue; // a conditional or in-bundle reference: resolved later, to the patient written
			}
			if (!"Patient".equals(owner.getResourceType())) {
				continue; // e.g. a performer that is a Practitioner
			}
			if (!grant.patient().equals(owner.getIdPart())) {
				throw new ForbiddenOperationException("the access token is for another patient");
			}
		}
	}

	private Grant authenticate(RequestDetails request) {
		String header = request.getHeader("Authorization");
		if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
			throw unauthorized("this server needs a SMART access token (Authorization: Bearer)", "invalid_request");
		}
		JWTClaimsSet claims;
		try {
			claims = processor.process(header.substring(7).trim(), null);
		} catch (Exception e) {
			throw unauthorized("the access token is not valid: " + e.getMessage(), "invalid_token");
		}
		String base = request.getFhirServerBase();
		if (claims.getAudience().stream().noneMatch(a -> stripSlash(a).equals(stripSlash(base)))) {
			throw unauthorized("the access token is for another server (aud)", "invalid_token");
		}
		List<Permission> permissions = new ArrayList<>();
		Object scope = claims.getClaim("scope");
		for (String s : String.valueOf(scope).split(" ")) {
			Matcher v2 = V2.matcher(s);
			Matcher v1 = V1.matcher(s);
			if (v2.matches()) {
				Set<Character> actions = new HashSet<>();
				v2.group(3).chars().forEach(c -> actions.add((char) c));
				permissions.add(new Permission(v2.group(1), v2.group(2), actions));
			} else if (v1.matches()) {
				String word = v1.group(3);
				Set<Character> actions = word.equals("read")
						? Set.of('r', 's')
						: word.equals("write") ? Set.of('c', 'u', 'd') : Set.of('c', 'r', 'u', 'd', 's');
				permissions.add(new Permission(v1.group(1), v1.group(2), actions));
			}
		}
		Object patient = claims.getClaim("patient");
		return new Grant(permissions, patient == null ? null : String.valueOf(patient));
	}

	private static String stripSlash(String url) {
		return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
	}

	private static AuthenticationException unauthorized(String message, String error) {
		AuthenticationException e = new AuthenticationException(message);
		e.addResponseHeader("WWW-Authenticate", "Bearer error=\"" + error + "\"");
		return e;
	}
}
