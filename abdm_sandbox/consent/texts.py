"""The words of the sandbox's ABHA app pages, in English, Hindi and Gujarati (the sandbox runs without Django's
translation machinery: it is a separate project with USE_I18N off)."""

LANGUAGES = {"en": "English", "hi": "हिन्दी", "gu": "ગુજરાતી"}

TEXTS = {
    "title": {"en": "ABHA app (sandbox)", "hi": "आभा ऐप (सैंडबॉक्स)", "gu": "આભા એપ (સેન્ડબોક્સ)"},
    "sign_in": {"en": "Sign in", "hi": "साइन इन करें", "gu": "સાઇન ઇન કરો"},
    "sign_out": {"en": "Sign out", "hi": "साइन आउट करें", "gu": "સાઇન આઉટ કરો"},
    "abha_address": {"en": "ABHA address", "hi": "आभा पता", "gu": "આભા સરનામું"},
    "send_otp": {"en": "Send OTP", "hi": "ओटीपी भेजें", "gu": "ઓટીપી મોકલો"},
    "otp": {"en": "OTP sent to your mobile", "hi": "आपके मोबाइल पर भेजा गया ओटीपी", "gu": "તમારા મોબાઇલ પર મોકલેલ ઓટીપી"},
    "verify": {"en": "Verify", "hi": "सत्यापित करें", "gu": "ચકાસો"},
    "unknown_address": {
        "en": "No ABHA with this address, or it has no mobile number.",
        "hi": "इस पते का कोई आभा नहीं है, या उसमें मोबाइल नंबर नहीं है।",
        "gu": "આ સરનામાનું કોઈ આભા નથી, અથવા તેમાં મોબાઇલ નંબર નથી.",
    },
    "wrong_otp": {
        "en": "That OTP is wrong or has expired.",
        "hi": "यह ओटीपी गलत है या उसकी समय-सीमा समाप्त हो गई है।",
        "gu": "આ ઓટીપી ખોટો છે અથવા તેની મુદત પૂરી થઈ ગઈ છે.",
    },
    "pending": {
        "en": "Requests waiting for you",
        "hi": "आपके उत्तर की प्रतीक्षा में अनुरोध",
        "gu": "તમારા જવાબની રાહ જોતી વિનંતીઓ",
    },
    "no_pending": {
        "en": "No requests are waiting.",
        "hi": "कोई अनुरोध प्रतीक्षा में नहीं है।",
        "gu": "કોઈ વિનંતી રાહ જોતી નથી.",
    },
    "granted": {"en": "Consents you gave", "hi": "आपके द्वारा दी गई सहमतियाँ", "gu": "તમે આપેલી સંમતિઓ"},
    "no_granted": {"en": "You have given no consents.", "hi": "आपने कोई सहमति नहीं दी है।", "gu": "તમે કોઈ સંમતિ આપી નથી."},
    "history": {"en": "Earlier requests", "hi": "पिछले अनुरोध", "gu": "અગાઉની વિનંતીઓ"},
    "asks": {
        "en": "{hiu} asks to see your health records",
        "hi": "{hiu} आपके स्वास्थ्य रिकॉर्ड देखना चाहता है",
        "gu": "{hiu} તમારા આરોગ્ય રેકોર્ડ જોવા માંગે છે",
    },
    "purpose": {"en": "Purpose", "hi": "उद्देश्य", "gu": "હેતુ"},
    "requester": {"en": "Asked by", "hi": "अनुरोधकर्ता", "gu": "વિનંતી કરનાર"},
    "record_types": {"en": "Kinds of records", "hi": "रिकॉर्ड के प्रकार", "gu": "રેકોર્ડના પ્રકાર"},
    "from": {"en": "Records from", "hi": "रिकॉर्ड की आरंभ तिथि", "gu": "રેકોર્ડ આ તારીખથી"},
    "to": {"en": "Records to", "hi": "रिकॉर्ड की अंतिम तिथि", "gu": "રેકોર્ડ આ તારીખ સુધી"},
    "expiry": {"en": "Access ends on", "hi": "पहुँच इस तिथि को समाप्त होगी", "gu": "પ્રવેશ આ તારીખે પૂરો થશે"},
    "access_mode": {"en": "Access", "hi": "पहुँच", "gu": "પ્રવેશ"},
    "facilities": {"en": "Records at", "hi": "रिकॉर्ड कहाँ हैं", "gu": "રેકોર્ડ ક્યાં છે"},
    "no_records": {
        "en": "No records are linked to your ABHA that this request could cover.",
        "hi": "आपके आभा से ऐसे कोई रिकॉर्ड जुड़े नहीं हैं जिन पर यह अनुरोध लागू हो।",
        "gu": "તમારા આભા સાથે એવા કોઈ રેકોર્ડ જોડાયેલા નથી જેને આ વિનંતી આવરી શકે.",
    },
    "narrow": {
        "en": "You may allow less than was asked: untick kinds or records, shorten the dates.",
        "hi": "आप माँगे गए से कम की अनुमति दे सकते हैं: प्रकार या रिकॉर्ड हटाएँ, तिथियाँ कम करें।",
        "gu": "તમે માંગ્યા કરતાં ઓછી મંજૂરી આપી શકો છો: પ્રકાર કે રેકોર્ડ હટાવો, તારીખો ટૂંકી કરો.",
    },
    "allow": {"en": "Allow", "hi": "अनुमति दें", "gu": "મંજૂરી આપો"},
    "deny": {"en": "Deny", "hi": "अस्वीकार करें", "gu": "નામંજૂર કરો"},
    "revoke": {"en": "Revoke", "hi": "वापस लें", "gu": "પાછી ખેંચો"},
    "open": {"en": "Open", "hi": "खोलें", "gu": "ખોલો"},
    "back": {"en": "Back", "hi": "वापस", "gu": "પાછા"},
    "status": {"en": "Status", "hi": "स्थिति", "gu": "સ્થિતિ"},
    "done_grant": {"en": "You allowed the request.", "hi": "आपने अनुरोध की अनुमति दी।", "gu": "તમે વિનંતીને મંજૂરી આપી."},
    "done_deny": {"en": "You denied the request.", "hi": "आपने अनुरोध अस्वीकार किया।", "gu": "તમે વિનંતી નામંજૂર કરી."},
    "done_revoke": {"en": "You revoked the consent.", "hi": "आपने सहमति वापस ले ली।", "gu": "તમે સંમતિ પાછી ખેંચી."},
    "not_found": {"en": "There is no such request.", "hi": "ऐसा कोई अनुरोध नहीं है।", "gu": "આવી કોઈ વિનંતી નથી."},
    "refused": {
        "en": "That could not be done: {reason}",
        "hi": "यह नहीं हो सका: {reason}",
        "gu": "આ થઈ શક્યું નહીં: {reason}",
    },
    "REQUESTED": {"en": "Waiting for you", "hi": "आपकी प्रतीक्षा में", "gu": "તમારી રાહ જુએ છે"},
    "GRANTED": {"en": "Allowed", "hi": "अनुमति दी गई", "gu": "મંજૂર"},
    "DENIED": {"en": "Denied", "hi": "अस्वीकृत", "gu": "નામંજૂર"},
    "EXPIRED": {"en": "Expired", "hi": "समाप्त", "gu": "મુદત પૂરી"},
    "REVOKED": {"en": "Revoked", "hi": "वापस लिया गया", "gu": "પાછી ખેંચાઈ"},
    "VIEW": {"en": "view only", "hi": "केवल देखना", "gu": "ફક્ત જોવું"},
    "STORE": {"en": "view and keep a copy", "hi": "देखना और प्रति रखना", "gu": "જોવું અને નકલ રાખવી"},
    "QUERY": {"en": "query", "hi": "पूछताछ", "gu": "પૂછપરછ"},
    "STREAM": {"en": "stream", "hi": "स्ट्रीम", "gu": "સ્ટ્રીમ"},
}

HI_TYPE_NAMES = {
    "OPConsultation": {"en": "OPD consultation", "hi": "ओपीडी परामर्श", "gu": "ઓપીડી પરામર્શ"},
    "Prescription": {"en": "Prescription", "hi": "पर्चा", "gu": "પ્રિસ્ક્રિપ્શન"},
    "DischargeSummary": {"en": "Discharge summary", "hi": "डिस्चार्ज सारांश", "gu": "ડિસ્ચાર્જ સારાંશ"},
    "DiagnosticReport": {"en": "Diagnostic report", "hi": "जाँच रिपोर्ट", "gu": "તપાસ રિપોર્ટ"},
    "ImmunizationRecord": {"en": "Immunisation record", "hi": "टीकाकरण रिकॉर्ड", "gu": "રસીકરણ રેકોર્ડ"},
    "HealthDocumentRecord": {"en": "Health document", "hi": "स्वास्थ्य दस्तावेज़", "gu": "આરોગ્ય દસ્તાવેજ"},
    "WellnessRecord": {"en": "Wellness record", "hi": "वेलनेस रिकॉर्ड", "gu": "વેલનેસ રેકોર્ડ"},
    "Invoice": {"en": "Invoice", "hi": "बिल", "gu": "બિલ"},
}

PURPOSE_NAMES = {
    "CAREMGT": {"en": "Care management", "hi": "देखभाल प्रबंधन", "gu": "સારવાર વ્યવસ્થાપન"},
    "BTG": {"en": "Break the glass (emergency)", "hi": "आपातकालीन पहुँच", "gu": "કટોકટી પ્રવેશ"},
    "PUBHLTH": {"en": "Public health", "hi": "सार्वजनिक स्वास्थ्य", "gu": "જાહેર આરોગ્ય"},
    "HPAYMT": {"en": "Healthcare payment", "hi": "स्वास्थ्य सेवा भुगतान", "gu": "આરોગ્ય સેવા ચુકવણી"},
    "DSRCH": {"en": "Disease-specific research", "hi": "रोग-विशिष्ट शोध", "gu": "રોગ-વિશિષ્ટ સંશોધન"},
    "PATRQT": {"en": "Requested by you", "hi": "आपके द्वारा अनुरोधित", "gu": "તમારી વિનંતીથી"},
}


def texts_for(language: str) -> dict:
    language = language if language in LANGUAGES else "en"
    return {key: value[language] for key, value in TEXTS.items()}
