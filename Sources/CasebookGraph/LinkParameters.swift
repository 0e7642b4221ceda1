/// Every number that decides a link, recorded with each run (`link_runs.parameters`)
/// so a cluster can be explained by the settings that made it.
public struct LinkParameters: Codable, Sendable, Equatable {
    /// A pair of accounts is linked when the weights of what they share add up to this.
    public var threshold = 1.0

    /// The same payment fingerprint: enough alone, unless the card is on more accounts than this.
    public var cardWeight = 1.0
    public var cardMaxAccounts = 5_000

    /// A hosting, business or unclassified IP shared by at most `ipMaxAccounts` accounts.
    public var ipWeight = 0.6
    public var ipMaxAccounts = 50
    /// A residential IP counts only when very few accounts share it (a home, not a proxy exit).
    public var residentialIPWeight = 0.5
    public var residentialMaxAccounts = 4
    /// Two accounts share an address only if their use of it comes within this many days.
    public var ipOverlapDays = 7
    /// IP kinds shared by crowds of strangers: never evidence on their own.
    public var crowdIPKinds = ["vpn", "mobile", "education", "tor"]

    /// A user agent used by few accounts (a custom client), as a share of all accounts.
    public var userAgentWeight = 0.5
    public var userAgentMaxShare = 0.02
    public var userAgentMaxAccounts = 2_000

    /// The same email domain, outside the free-mail providers.
    public var emailDomainWeight = 0.3
    public var emailDomainMaxAccounts = 500
    public var freeMailDomains = ["gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com",
                                  "icloud.com", "me.com", "proton.me", "protonmail.com", "gmx.de", "gmx.net", "aol.com",
                                  "mail.ru", "yandex.ru", "qq.com", "163.com"]
    /// Generated local parts on one non-free domain: a run of at least `emailSequenceMinRun`
    /// addresses with one stem and numbers at most `emailSequenceMaxGap` apart (name0001, name0002, ...).
    public var emailSequenceWeight = 1.0
    public var emailSequenceMaxGap = 2
    public var emailSequenceMinRun = 3

    /// The same BIN on instruments with chargebacks.
    public var chargebackBINWeight = 0.2

    /// Prompt templates: the phrases that recur within an account's prompts, compared across accounts.
    /// Near-identical templates are enough alone; merely similar ones need other evidence.
    public var templateWeight = 1.0
    public var templateMinJaccard = 0.75
    public var similarTemplateWeight = 0.5
    public var similarTemplateMinJaccard = 0.5
    public var templateSamplePrompts = 24
    public var templateMinPrompts = 10
    /// A phrase counts as part of an account's template when it is in this share (and at least
    /// three) of its sampled prompts: an operator repeats its template in nearly every request,
    /// a person rarely repeats a phrasing in a quarter of theirs.
    public var templatePhraseShare = 0.25
    /// Fewer recurring phrases than this is a habit of phrasing ("can you help me write"),
    /// not a template: an operator's template repeats a whole paragraph.
    public var templateMinPhrases = 16
    /// Phrases in more accounts' templates than this are generic wording, not a template.
    public var templatePhraseMaxAccounts = 2_500
    public var templatePhraseMaxShare = 0.02

    /// Synchronized activity: the same active hours, for accounts that are not active around the clock.
    public var synchronyWeight = 0.6
    public var synchronyMinJaccard = 0.6
    public var synchronyMinActiveHours = 12
    public var synchronyMaxActiveShare = 0.5

    /// Models counted as "most capable" for the risk indicator: names containing any of these.
    public var capableModelMarkers = ["opus", "ultra", "xl", "large", "max"]

    public init() {}
}
