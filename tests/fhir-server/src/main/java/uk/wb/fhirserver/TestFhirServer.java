package uk.wb.fhirserver;

import ca.uhn.fhir.batch2.jobs.config.Batch2JobsConfig;
import ca.uhn.fhir.batch2.jobs.export.BulkDataExportProvider;
import ca.uhn.fhir.batch2.maintenance.JobMaintenanceServiceImpl;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.jpa.api.config.JpaStorageSettings;
import ca.uhn.fhir.jpa.api.config.ThreadPoolFactoryConfig;
import ca.uhn.fhir.jpa.api.dao.IFhirSystemDao;
import ca.uhn.fhir.jpa.batch2.JpaBatch2Config;
import ca.uhn.fhir.jpa.config.HapiJpaConfig;
import ca.uhn.fhir.jpa.config.r4.JpaR4Config;
import ca.uhn.fhir.jpa.config.util.HapiEntityManagerFactoryUtil;
import ca.uhn.fhir.jpa.model.config.PartitionSettings;
import ca.uhn.fhir.jpa.model.config.SubscriptionSettings;
import ca.uhn.fhir.jpa.provider.JpaCapabilityStatementProvider;
import ca.uhn.fhir.jpa.provider.JpaSystemProvider;
import ca.uhn.fhir.jpa.search.DatabaseBackedPagingProvider;
import ca.uhn.fhir.jpa.subscription.channel.config.SubscriptionChannelConfig;
import ca.uhn.fhir.narrative2.NullNarrativeGenerator;
import ca.uhn.fhir.rest.api.EncodingEnum;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.provider.ResourceProviderFactory;
import ca.uhn.fhir.rest.server.util.ISearchParamRegistry;
import jakarta.persistence.EntityManagerFactory;
import java.net.MalformedURLException;
import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.elasticsearch.ElasticsearchClientAutoConfiguration;
import org.springframework.boot.autoconfigure.elasticsearch.ElasticsearchRestClientAutoConfiguration;
import org.springframework.boot.autoconfigure.orm.jpa.HibernateJpaAutoConfiguration;
import org.springframework.boot.autoconfigure.quartz.QuartzAutoConfiguration;
import org.springframework.boot.autoconfigure.thymeleaf.ThymeleafAutoConfiguration;
import org.springframework.boot.web.servlet.ServletRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Primary;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;

/**
 * wb_fhir's FHIR R4 test server: HAPI FHIR's JPA storage (H2 in memory) behind HAPI's
 * RestfulServer on /fhir/*, in an embedded Tomcat. Only what the tests need is wired:
 * CRUD, search/paging, transactions, history, $validate and Bulk Data $export. For tests only.
 */
// Boot would otherwise set up JPA itself, an Elasticsearch client (HAPI ships the ES client
// for its optional Hibernate Search backend), Thymeleaf and Quartz: we want none of them.
@SpringBootApplication(
		exclude = {
			HibernateJpaAutoConfiguration.class,
			ElasticsearchRestClientAutoConfiguration.class,
			ElasticsearchClientAutoConfiguration.class,
			ThymeleafAutoConfiguration.class,
			QuartzAutoConfiguration.class // HAPI runs its own Quartz schedulers
		})
@Import({
	JpaR4Config.class, // R4 DAOs, system DAO and system provider (transaction/batch/history)
	HapiJpaConfig.class, // common JPA config: search, paging, validation support chain...
	ThreadPoolFactoryConfig.class,
	JpaBatch2Config.class, // batch2 job coordinator (needed by some JPA services)
	Batch2JobsConfig.class, // reindex etc. (e.g. after a SearchParameter is stored)
	SubscriptionChannelConfig.class // in-memory message broker that batch2 uses
})
public class TestFhirServer {

	/**
	 * Set to an authorization server's issuer URL (e.g. the tests' SMART server), every request
	 * but /metadata needs a valid access token from it (SmartAuthInterceptor), and
	 * /fhir/.well-known/smart-configuration serves its SMART configuration. Unset: no auth.
	 */
	static final String AUTH_ISSUER_ENV = "WB_FHIR_AUTH_ISSUER";
	/** JWKS URL of that server (default: {issuer}/jwks). */
	static final String AUTH_JWKS_ENV = "WB_FHIR_AUTH_JWKS";

	static String authIssuer() {
		String issuer = System.getenv(AUTH_ISSUER_ENV);
		return issuer == null || issuer.isBlank() ? null : issuer.trim();
	}

	public static void main(String[] args) {
		SpringApplication.run(TestFhirServer.class, args);
	}

	@Bean
	public JpaStorageSettings storageSettings() {
		JpaStorageSettings s = new JpaStorageSettings();
		// Each search runs fresh: no reuse of results of an identical earlier search.
		s.setReuseCachedSearchResultsForMillis(null);
		s.setResourceClientIdStrategy(JpaStorageSettings.ClientIdStrategyEnum.ALPHANUMERIC);
		s.setAllowMultipleDelete(true);
		s.setExpungeEnabled(true);
		s.setDeleteExpungeEnabled(true);
		s.setAdvancedHSearchIndexing(false);
		// Keep conditional-URL matching strict and synchronous.
		s.setMatchUrlCacheEnabled(false);
		return s;
	}

	/** Batch2 jobs (Bulk Data $export) advance one step per maintenance pass: every 2 s here, not every minute. */
	@Bean
	public static BeanPostProcessor fastJobMaintenance() {
		return new BeanPostProcessor() {
			@Override
			public Object postProcessAfterInitialization(Object bean, String name) {
				if (bean instanceof JobMaintenanceServiceImpl maintenance) {
					maintenance.setScheduledJobFrequencyMillis(2000);
				}
				return bean;
			}
		};
	}

	@Bean
	public PartitionSettings partitionSettings() {
		return new PartitionSettings();
	}

	@Bean
	public SubscriptionSettings subscriptionSettings() {
		return new SubscriptionSettings();
	}

	@Primary
	@Bean
	public LocalContainerEntityManagerFactoryBean entityManagerFactory(
			ConfigurableListableBeanFactory beanFactory,
			FhirContext fhirContext,
			JpaStorageSettings storageSettings,
			DataSource dataSource) {
		LocalContainerEntityManagerFactoryBean emf =
				HapiEntityManagerFactoryUtil.newEntityManagerFactory(beanFactory, fhirContext, storageSettings);
		Map<String, Object> props = new HashMap<>();
		props.put("hibernate.dialect", "ca.uhn.fhir.jpa.model.dialect.HapiFhirH2Dialect");
		props.put("hibernate.hbm2ddl.auto", "update");
		props.put("hibernate.search.enabled", "false");
		props.put("hibernate.archive.scanner", "org.hibernate.boot.archive.scan.internal.DisabledScanner");
		props.put(
				"hibernate.physical_naming_strategy",
				"org.hibernate.boot.model.naming.CamelCaseToUnderscoresNamingStrategy");
		props.put("hibernate.implicit_naming_strategy", "org.springframework.boot.orm.jpa.hibernate.SpringImplicitNamingStrategy");
		props.put("hibernate.jdbc.batch_size", "20");
		props.put("hibernate.cache.use_query_cache", "false");
		props.put("hibernate.cache.use_second_level_cache", "false");
		props.put("hibernate.format_sql", "false");
		props.put("hibernate.show_sql", "false");
		emf.setPersistenceUnitName("HAPI_PU");
		emf.setJpaPropertyMap(props);
		emf.setDataSource(dataSource);
		return emf;
	}

	@Primary
	@Bean
	public JpaTransactionManager transactionManager(EntityManagerFactory entityManagerFactory) {
		return new JpaTransactionManager(entityManagerFactory);
	}

	@Bean
	public RestfulServer fhirRestfulServer(
			IFhirSystemDao<?, ?> systemDao,
			ResourceProviderFactory resourceProviders,
			JpaSystemProvider<?, ?> systemProvider,
			DatabaseBackedPagingProvider pagingProvider,
			JpaStorageSettings storageSettings,
			ISearchParamRegistry searchParamRegistry,
			IValidationSupport validationSupport,
			IInterceptorService interceptorService,
			BulkDataExportProvider bulkDataExportProvider)
			throws MalformedURLException {
		FhirContext ctx = systemDao.getContext();
		ctx.setNarrativeGenerator(new NullNarrativeGenerator());
		RestfulServer server = new RestfulServer(ctx);
		server.registerProviders(resourceProviders.createProviders());
		server.registerProvider(systemProvider);
		// Bulk Data $export (system, Patient and Group level): `wb-fhir report --server` reads through it.
		server.registerProvider(bulkDataExportProvider);
		pagingProvider.setDefaultPageSize(20);
		pagingProvider.setMaximumPageSize(500);
		server.setPagingProvider(pagingProvider);
		server.setDefaultResponseEncoding(EncodingEnum.JSON);
		JpaCapabilityStatementProvider capabilities = new JpaCapabilityStatementProvider(
				server, systemDao, storageSettings, searchParamRegistry, validationSupport);
		capabilities.setImplementationDescription("wb_fhir test server (HAPI FHIR JPA, H2 in memory)");
		server.setServerConformanceProvider(capabilities);
		String issuer = authIssuer();
		if (issuer != null) {
			String jwks = System.getenv(AUTH_JWKS_ENV);
			if (jwks == null || jwks.isBlank()) {
				jwks = issuer.replaceAll("/+$", "") + "/jwks";
			}
			SmartAuthInterceptor auth = new SmartAuthInterceptor(ctx, issuer, URI.create(jwks).toURL());
			server.registerInterceptor(auth); // request pointcuts
			interceptorService.registerInterceptor(auth); // storage pointcuts (also inside transactions)
		}
		return server;
	}

	@Bean
	public ServletRegistrationBean<SmartConfigurationServlet> smartConfigurationServlet() {
		String issuer = authIssuer();
		// Without auth the path is mapped to nothing that answers (404), as on a server without SMART.
		ServletRegistrationBean<SmartConfigurationServlet> reg = new ServletRegistrationBean<>(
				new SmartConfigurationServlet(issuer == null ? "http://127.0.0.1:9" : issuer),
				"/fhir/.well-known/smart-configuration");
		reg.setName("smart-configuration");
		reg.setEnabled(issuer != null);
		return reg;
	}

	@Bean
	public ServletRegistrationBean<RestfulServer> fhirServlet(RestfulServer server) {
		ServletRegistrationBean<RestfulServer> reg = new ServletRegistrationBean<>(server, "/fhir/*");
		reg.setName("fhir");
		reg.setLoadOnStartup(1);
		return reg;
	}
}
