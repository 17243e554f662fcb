package dev.holdfast.intake.auth;

import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** The identities a client certificate vouches for: its subject CN first, then its DNS and URI SANs. */
final class CertificateNames {
    private static final int SAN_DNS = 2;
    private static final int SAN_URI = 6;

    private CertificateNames() {
    }

    static List<String> of(X509Certificate cert) {
        Set<String> names = new LinkedHashSet<>();
        try {
            List<Rdn> rdns = new LdapName(cert.getSubjectX500Principal().getName()).getRdns();
            for (int i = rdns.size() - 1; i >= 0; i--) { // most specific first: the last CN in RFC 2253 order
                if (rdns.get(i).getType().equalsIgnoreCase("CN") && rdns.get(i).getValue() instanceof String cn) {
                    names.add(cn);
                    break;
                }
            }
        } catch (InvalidNameException e) {
            // no usable CN: the SANs may still name it
        }
        try {
            Collection<List<?>> sans = cert.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if ((Integer) san.get(0) == SAN_DNS || (Integer) san.get(0) == SAN_URI) {
                        names.add((String) san.get(1));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            // unreadable SANs name nobody
        }
        return new ArrayList<>(names);
    }
}
