"""How questions.jsonl was written: the questions, and their split with a fixed seed.

    python3 make_questions.py questions.jsonl

Per document, and for each kind of unanswerable question, the ids are shuffled with
random.Random(20261201) and the first half (rounded up) goes to dev, the rest to test.
The test split is held back: nobody tunes on it (see README.md).

The second batch (DEV_A, DEV_NONE, added later) is dev only: it is written after the first batch's
rows and draws nothing from the random generator, so the first batch's splits are unchanged.
"""
import json
import random
import sys

HB, LIC, MAN = "Handbook", "Licences", "Manuals"
A = []  # (id, document, question, gold_section, keywords, notes)


def q(qid, doc, question, gold, kws, notes=""):
    A.append((qid, doc, question, gold, kws, notes))


d = "employee-handbook.md"
q("hb-01", d, "How many days of paid holiday do I get per year if I work full time?", "3.2 Annual leave", ["28 days"])
q("hb-02", d, "I didn't use all my vacation last year. How many days can I bring over, and until when can I use them?", "3.2 Annual leave", ["5 days", "31 March"], "multi-part")
q("hb-03", d, "Can I get into the Utrecht office on a Saturday morning, and from what time to what time?", "2.2 Office opening hours", ["09:00 to 13:00"], "weekday and Saturday hours in the same paragraph")
q("hb-04", d, "From which day of being ill do I need to hand in a note from my doctor?", "3.3 Sick leave", ["fourth calendar day"])
q("hb-05", d, "How long is maternity leave for the mother?", "3.4 Parental leave", ["16 weeks"], "28 days annual leave is in another section")
q("hb-06", d, "My wife is expecting a baby. How much paid leave do I get as the partner, and by when do I have to take it?", "3.4 Parental leave", ["4 weeks", "six months"], "multi-part")
q("hb-07", d, "When does my salary arrive each month?", "4.1 Payday", ["25th"])
q("hb-08", d, "What share of my salary goes into the pension from the company and from me?", "4.2 Pension", ["6%", "4%"], "multi-part")
q("hb-09", d, "What is my yearly budget for courses and conference tickets?", "4.3 Learning and development", ["EUR 1,200"])
q("hb-10", d, "A supplier sent me a bottle of wine worth about 80 euros. Am I allowed to keep it?", "6.1 Gifts and hospitality", ["EUR 50"])
q("hb-11", d, "If I quit after my trial period, how much notice do I have to give?", "5.2 Notice periods", ["one month"])
q("hb-12", d, "Where should I go when the fire alarm rings?", "8.2 Fire and evacuation", ["car park B"])
q("hb-13", d, "Which internal phone number do I dial for a medical emergency in the building?", "8.1 First aid and emergencies", ["2222"])
q("hb-14", d, "How many days per week am I allowed to work from home?", "2.3 Working from home", ["three days"])
q("hb-15", d, "How long does HR take to give a decision on a formal complaint about my manager?", "7.1 Grievances", ["15 working days"])

d = "travel-and-expenses-policy.txt"
q("tr-01", d, "What is the hotel limit in London?", "4.1. Hotels", ["EUR 220"], "three hotel limits and breakfast in one section")
q("tr-02", d, "How much may a hotel room cost per night in Rotterdam?", "4.1. Hotels", ["EUR 160"], "Rotterdam is not a capital: the 'all other places' limit")
q("tr-03", d, "How much do I get per day for food when I stay away overnight?", "5.1. Daily meal allowance", ["EUR 45"])
q("tr-04", d, "I drive my own car to a customer. What is the mileage rate?", "3.3. Private car", ["EUR 0.23"])
q("tr-05", d, "Can I book business class for a nine-hour flight to Boston?", "3.1. Air travel", ["premium economy"])
q("tr-06", d, "How soon after getting back do I have to file my expense report?", "6.1. Deadlines", ["30 days"])
q("tr-07", d, "From what amount do I have to attach a receipt?", "6.2. Receipts", ["EUR 10"])
q("tr-08", d, "I lost my corporate card in Madrid. Which number do I call to block it?", "7.2. Lost or stolen cards", ["+31 20 555 0188"])
q("tr-09", d, "When will the company pay for a cab instead of the bus?", "3.4. Taxis and ride-hailing", ["22:00", "06:00"])
q("tr-10", d, "How do I reach the people who book trips, and how early should I book?", "2.2. Booking through the Travel Desk", ["310", "14 days"], "multi-part")
q("tr-11", d, "Who has to sign off a business trip to Singapore?", "2.1. Approval", ["CFO"])
q("tr-12", d, "What may I spend per guest when I take a customer out to dinner?", "5.2. Client entertainment", ["EUR 75"])
q("tr-13", d, "What is the nightly hotel cap in Zurich?", "4.1. Hotels", ["EUR 280"])
q("tr-14", d, "My manager approved my claim on the 20th. When will it be paid?", "6.4. Approval and payment", ["next month's salary"])
q("tr-15", d, "Which emergency number do I call if I get sick on a business trip abroad?", "8. Safety and insurance", ["+31 70 555 0900"])

d = "it-security-policy.html"
q("it-01", d, "What must I do if I lose my laptop?", "3.2 Lost or stolen devices", ["999", "1 hour"], "multi-part: whom and how fast")
q("it-02", d, "What is the minimum length for my password?", "2.1 Passwords", ["14 characters"])
q("it-03", d, "Can I get my second-factor codes by SMS?", "2.2 Multi-factor authentication", ["text messages"])
q("it-04", d, "After how long without use does my laptop lock on its own?", "3.1 Company laptops", ["5 minutes"])
q("it-05", d, "What is the largest attachment the mail server lets through?", "5.2 Sharing files", ["25 MB"])
q("it-06", d, "For how long are the daily backups kept?", "7. Backups and retention", ["35 days"], "monthly backups 12 months in the same paragraph")
q("it-07", d, "How quickly must a personal data breach be reported to the data protection authority?", "8. Reporting security incidents", ["72 hours"], "24 hours and 4 hours in the same section")
q("it-08", d, "Is the helpdesk available on Saturdays, and when?", "11. IT helpdesk", ["10:00 to 14:00"], "weekday hours in the same sentence")
q("it-09", d, "I clicked a link in a suspicious e-mail and typed my password. What should I do now?", "5.1 Phishing", ["999"])
q("it-10", d, "Can I put files for a customer on a USB stick?", "3.4 Removable media", ["encrypted USB stick"])
q("it-11", d, "What happens to the mailbox of someone who leaves the company?", "2.3 Joiners, movers and leavers", ["90 days"])
q("it-12", d, "Which label do patient records get?", "4. Classification of information", ["Strictly confidential"])
q("it-13", d, "I am visiting a customer in China next month. Can I bring my normal work laptop?", "9. Remote working and travel", ["loan laptop"])
q("it-14", d, "How fast does the helpdesk respond when my whole team is unable to work?", "11. IT helpdesk", ["2 hours"])

d = "Apache-2.0.txt"
q("apache-01", d, "What does the Apache licence say about trademarks?", "6. Trademarks", ["trademarks"])
q("apache-02", d, "If I sue someone claiming the Apache-licensed work infringes my patent, what happens to my patent licence?", "3. Grant of Patent License", ["terminate"])
q("apache-03", d, "I changed some files of an Apache 2.0 project. What do I have to put in them before I redistribute?", "4. Redistribution", ["prominent notices"])
q("apache-04", d, "Is the copyright grant under Apache 2.0 revocable, and do I have to pay royalties?", "2. Grant of Copyright License", ["irrevocable", "royalty-free"], "multi-part")
q("apache-05", d, "Does Apache-licensed software come with any warranty?", "7. Disclaimer of Warranty", ["AS IS"])
q("apache-06", d, "May I charge customers for support or warranty on Apache-licensed code?", "9. Accepting Warranty or Additional Liability", ["charge a fee"])
q("apache-07", d, "What share of ownership counts as control when defining a Legal Entity in the Apache licence?", "1. Definitions", ["50%"])
q("apache-08", d, "Can I claim damages from a contributor for lost goodwill caused by the software?", "8. Limitation of Liability", ["goodwill"])
q("apache-09", d, "Which notices from the original source must I keep in a derivative work?", "4. Redistribution", ["attribution notices"])
q("apache-10", d, "How do I apply the Apache License to my own code?", "APPENDIX: How to apply the Apache License to your work", ["boilerplate notice"])

d = "GPL-3.txt"
q("gpl3-01", d, "How long do I have to cure a violation under GPL-3 after notice?", "8. Termination", ["30 days"], "60 days in the paragraph before")
q("gpl3-02", d, "I stopped violating the GPL and the copyright holder never contacted me. When is my licence reinstated for good?", "8. Termination", ["60 days"])
q("gpl3-03", d, "For how long must a written offer of source code be valid when I ship GPL software inside a device?", "6. Conveying Non-Source Forms", ["three years"])
q("gpl3-04", d, "Am I allowed to sell copies of a GPL program?", "4. Conveying Verbatim Copies", ["any price"])
q("gpl3-05", d, "Can I link GPL-3 code with code under the Affero GPL?", "13. Use with the GNU Affero General Public License", ["Affero"])
q("gpl3-06", d, "The program doesn't say which GPL version applies. Which version may I pick?", "14. Revised Versions of this License", ["any version ever published"])
q("gpl3-07", d, "Is sublicensing permitted under GPL version 3?", "2. Basic Permissions", ["Sublicensing is not allowed"])
q("gpl3-08", d, "What must a modified GPL work carry to show that it was changed?", "5. Conveying Modified Source Versions", ["prominent notices", "relevant date"])
q("gpl3-09", d, "Do I have to accept the GPL just to receive and run a copy of the program?", "9. Acceptance Not Required for Having Copies", ["not required to accept"])
q("gpl3-10", d, "How does the GPL define the source code of a work?", "1. Source Code", ["preferred form"])

d = "LGPL-3.txt"
q("lgpl3-01", d, "How long may an inline function taken from a library header be before the LGPL notice requirements apply to my object code?", "3. Object Code Incorporating Material from Library Header Files", ["ten or fewer lines"])
q("lgpl3-02", d, "What is a Combined Work under the Lesser GPL?", "0. Additional Definitions", ["combining or linking"])
q("lgpl3-03", d, "What must a shared library mechanism do to be suitable for linking with an LGPL library?", "4. Combined Works", ["interface-compatible"])
q("lgpl3-04", d, "When I ship an application linked against an LGPL library, which licence texts must accompany it?", "4. Combined Works", ["GNU GPL", "this license document"], "multi-part")
q("lgpl3-05", d, "Can I modify an LGPL library and hand it on under the ordinary GPL instead?", "2. Conveying Modified Versions", ["GNU GPL"])
q("lgpl3-06", d, "Does defining a subclass of a class from the library count as using its interface?", "0. Additional Definitions", ["subclass"])
q("lgpl3-07", d, "My program prints copyright notices at start-up. What must I add for the LGPL library it uses?", "4. Combined Works", ["copyright notice for the Library"])
q("lgpl3-08", d, "If I bundle LGPL library facilities with other facilities in a single library, what must I ship alongside?", "5. Combined Libraries", ["uncombined"])
q("lgpl3-09", d, "Which section of the GNU GPL am I exempted from by section 1 of the LGPL?", "1. Exception to Section 3 of the GNU GPL", ["section 3"])
q("lgpl3-10", d, "Who can decide which future versions of the Lesser GPL apply to a library?", "6. Revised Versions of the GNU Lesser General Public License", ["proxy"])

d = "MPL-2.0.txt"
q("mpl2-01", d, "Under the Mozilla licence, how long do I have to become compliant after I receive notice of non-compliance?", "5. Termination", ["30 days"], "60 days in the same paragraph")
q("mpl2-02", d, "What happens to my MPL rights if I file a patent infringement suit against a contributor?", "5. Termination", ["terminate"])
q("mpl2-03", d, "In which courts can litigation about the MPL be brought?", "8. Litigation", ["principal place of business"])
q("mpl2-04", d, "Who is the steward of the Mozilla Public License?", "10.1. New Versions", ["Mozilla Foundation"])
q("mpl2-05", d, "If I distribute an executable built from MPL code, must I also make the source available?", "3.2. Distribution of Executable Form", ["Source Code Form"])
q("mpl2-06", d, "A regulation makes it impossible for me to comply with part of the MPL. What do I have to do?", "4. Inability to Comply Due to Statute or Regulation", ["text file"])
q("mpl2-07", d, "Does the MPL's limitation of liability also exclude liability for death or personal injury?", "7. Limitation of Liability", ["personal injury"])
q("mpl2-08", d, "From when do the licence grants for a contribution take effect?", "2.2. Effective Date", ["first distributes"])
q("mpl2-09", d, "Does the Mozilla licence limit my fair use rights?", "2.6. Fair Use", ["fair use"])
q("mpl2-10", d, "Which sections are conditions of the licence grants in the MPL?", "2.7. Conditions", ["3.1, 3.2, 3.3, and 3.4"])

d = "GFDL-1.3.txt"
q("gfdl-01", d, "What is the maximum length of a Back-Cover Text?", "1. APPLICABILITY AND DEFINITIONS", ["25 words"])
q("gfdl-02", d, "From how many printed copies on do the cover text requirements apply?", "3. COPYING IN QUANTITY", ["100"])
q("gfdl-03", d, "How long must the transparent copy stay downloadable after I stop distributing opaque copies in quantity?", "3. COPYING IN QUANTITY", ["one year"])
q("gfdl-04", d, "If a translation of the FDL disagrees with the English original, which one prevails?", "8. TRANSLATION", ["original version"])
q("gfdl-05", d, "Until what date could a wiki operator republish eligible content under CC-BY-SA?", "11. RELICENSING", ["August 1, 2009"])
q("gfdl-06", d, "What does MMC stand for in the Free Documentation License?", "11. RELICENSING", ["Massive Multiauthor Collaboration"])
q("gfdl-07", d, "Can I replace invariant sections with translations without asking anyone?", "8. TRANSLATION", ["special permission"])
q("gfdl-08", d, "Under the GFDL, how long do I have to cure a first violation after being notified?", "9. TERMINATION", ["30 days"])
q("gfdl-09", d, "Two invariant sections in documents I combine have the same name. How do I make the titles unique?", "5. COMBINING DOCUMENTS", ["parentheses"])
q("gfdl-10", d, "Do I have to contact the authors before redistributing a large number of copies?", "3. COPYING IN QUANTITY", ["requested, but not required"])

ON = [  # on-topic, not answered by any document (collection, question)
 (HB, "What is the company's policy on bringing pets to the office?"),
 (HB, "How many days of paid leave do I get for jury service?"),
 (HB, "Which airline alliance does the company prefer for flights?"),
 (HB, "Does the company pay for a car lease for sales staff?"),
 (HB, "What is the salary band for a senior developer?"),
 (HB, "Does the company offer private health insurance?"),
 (HB, "Is there a company Christmas party and who pays for partners to attend?"),
 (HB, "Does the company reimburse airport lounge access?"),
 (HB, "Which VPN client version do I need to install on Linux?"),
 (HB, "What is the Wi-Fi password for the guest network?"),
 (HB, "How much is the annual bonus for team leads?"),
 (HB, "How many parking spaces does the Utrecht office have for employees?"),
 (LIC, "Does GPL-3 say anything about patent royalties in Japan?"),
 (LIC, "What licence fee does the Apache Software Foundation charge for commercial use?"),
 (LIC, "Under the MPL, how many days' notice must a contributor give before changing the licence of their own project?"),
 (LIC, "Which courts in Germany have ruled on the LGPL?"),
 (LIC, "Is the Apache License compatible with the GPL version 2?"),
 (LIC, "How many copies of a GFDL manual may I print per day?"),
 (LIC, "What does the MIT licence say about warranty?"),
 (LIC, "When was the first version of the Mozilla Public License published?"),
]
OFF = [
 (HB, "Who won the football world cup in 2014?"),
 (HB, "What is the boiling point of ethanol?"),
 (HB, "What is the capital of Australia?"),
 (HB, "How many moons does Mars have?"),
 (HB, "Who painted the ceiling of the Sistine Chapel?"),
 (HB, "What is the square root of 144?"),
 (HB, "In which year did the Berlin Wall fall?"),
 (HB, "What is a good recipe for banana bread?"),
 (HB, "How tall is Mount Kilimanjaro?"),
 (HB, "Which planet is closest to the sun?"),
 (LIC, "Who wrote the novel Middlemarch?"),
 (LIC, "What is the speed of light in a vacuum?"),
 (LIC, "How many players are on a rugby union team?"),
 (LIC, "What language is spoken in Brazil?"),
 (LIC, "When did the first person walk on the moon?"),
 (LIC, "What is the chemical symbol for gold?"),
 (LIC, "Which river flows through Vienna?"),
 (LIC, "How long should I boil an egg for a soft yolk?"),
 (LIC, "What is the largest ocean on Earth?"),
 (LIC, "Who composed the Four Seasons?"),
]

# -- Second batch: dev only ----------------------------------------------------------------------
# Everyday wording (a new employee or non-lawyer typing in a chat box), facts the first batch does
# not ask about, and a new collection "Manuals" (grep-manual.txt). All rows get split "dev".
DEV_A = []  # (id, document, question, gold_section, keywords, notes)


def dq(qid, doc, question, gold, kws, notes=""):
    DEV_A.append((qid, doc, question, gold, kws, notes))


d = "employee-handbook.md"
dq("hb-16", d, "Do I get some money to set up a desk at home? And does the company chip in for my internet?", "2.3 Working from home", ["EUR 300", "EUR 25"], "multi-part")
dq("hb-17", d, "Can I work from my parents' place in Spain for a few weeks?", "2.3 Working from home", ["20 working days"])
dq("hb-18", d, "I like to start late. Which hours do I really have to be around on a normal weekday?", "2.1 Core hours", ["10:00 to 15:30"], "Friday 10:00 to 13:00 in the same sentence; Saturday office hours 09:00 to 13:00 in the next section")
dq("hb-19", d, "My grandmother passed away. How many days off do I get?", "3.5 Other leave", ["2 working days"], "5 working days for a partner, child or parent in the same item")
dq("hb-20", d, "When do we get the holiday money, and how much is it?", "4.1 Payday", ["8%", "paid in May"], "multi-part")
dq("hb-21", d, "Does the company pay anything towards my gym?", "4.4 Other benefits", ["EUR 40"], "EUR 40 per night for staying with friends in the travel policy")
dq("hb-22", d, "How long is the trial period when you start on a permanent contract?", "5.1 Probation period", ["2 months"], "1 month for fixed-term contracts in the same paragraph")
dq("hb-23", d, "Am I allowed to do freelance web design on the side at weekends?", "6.2 Conflicts of interest", ["written approval", "8 hours"])
dq("hb-24", d, "If I leave the company with holiday days left over, do I get paid for them?", "3.2 Annual leave", ["final salary"])
dq("hb-25", d, "I think my boss is taking bribes from a supplier. How can I report it without giving my name?", "7.2 Whistleblowing", ["Speak Up"])
dq("hb-26", d, "My office chair is killing my back. Do I need a note from my doctor to get a better one?", "8.3 Workstation", ["not required"])
dq("hb-27", d, "Besides the paid leave, can I take unpaid time off to look after my kids, and until what age?", "3.4 Parental leave", ["26 times", "eight years"], "multi-part")

d = "travel-and-expenses-policy.txt"
dq("tr-16", d, "Can my husband come along on my business trip?", "2.4. Combining business and private travel", ["own cost"])
dq("tr-17", d, "How long does my passport need to be valid for, and how much time should I leave to get a business visa?", "2.3. Passports, visas and vaccinations", ["6 months", "4 weeks"], "multi-part")
dq("tr-18", d, "Should I fly or take the train to Paris for a meeting?", "3.1. Air travel", ["5 hours"])
dq("tr-19", d, "I got a speeding ticket driving my own car to a client. Will the company cover it?", "3.3. Private car", ["never reimbursed"], "fines are also listed in 6.3")
dq("tr-20", d, "Breakfast wasn't included in my hotel. Can I claim it, and how much?", "4.1. Hotels", ["EUR 20"], "EUR 20 is also the day-trip allowance in 5.1")
dq("tr-21", d, "I'm on a project in Munich for two months. Can I fly home for weekends?", "4.2. Longer stays", ["every second week"])
dq("tr-22", d, "I'm staying at my cousin's place instead of a hotel. Can I claim anything for that?", "4.3. Staying with friends or family", ["EUR 40"])
dq("tr-23", d, "I have a 10-hour day trip to a customer and come back the same evening. Do I get any food money?", "5.1. Daily meal allowance", ["EUR 20"], "EUR 45 with an overnight stay in the same paragraph")
dq("tr-24", d, "I lost the receipt for a taxi ride. What can I do?", "6.2. Receipts", ["signed declaration"])
dq("tr-25", d, "I forgot to hand in a claim for something I paid four months ago. Will I still get the money?", "6.1. Deadlines", ["90 days"], "30 days after the trip in the same paragraph")
dq("tr-26", d, "I'm going to a country the foreign ministry says is high risk. Is there anything extra I need to do?", "8. Safety and insurance", ["21 days"])

d = "it-security-policy.html"
dq("it-15", d, "Do I have to change my password every 90 days?", "2.1 Passwords", ["on a schedule"])
dq("it-16", d, "Where should our team keep the shared login for the test server?", "2.1 Passwords", ["Vaultwarden"])
dq("it-17", d, "Can I read my work email on my personal iPhone?", "3.3 Personal devices", ["mobile device management"])
dq("it-18", d, "Am I allowed to paste code from our repository into ChatGPT to get help?", "5.3 Use of generative AI tools", ["source code"])
dq("it-19", d, "How do I install a program like Notepad++ on my laptop?", "6. Software", ["self-service portal"])
dq("it-20", d, "I deleted an important file from the file share last week. Can I get it back, and how long does that take?", "7. Backups and retention", ["helpdesk ticket", "one working day"], "multi-part")
dq("it-21", d, "A friend is visiting me at the office and wants to get online. Can I give him my login?", "10. Visitors and the server room", ["guest Wi-Fi"])
dq("it-22", d, "Does IT read my emails? And how long do they keep logs of what I do?", "12. Monitoring and breaches of this policy", ["as a routine", "1 year"], "multi-part")
dq("it-23", d, "I sent something to the printer but never picked it up. What happens to the print job?", "3.5 Clean desk and printing", ["24 hours"], "24 hours is also the incident reporting deadline in section 8")
dq("it-24", d, "My work phone was stolen from my hotel room. Apart from calling IT, what else do I have to do?", "3.2 Lost or stolen devices", ["police report", "48 hours"])
dq("it-25", d, "Our project needs an exception to one of the security rules. Who can grant it and for how long?", "1. Purpose and scope", ["CISO", "6 months"], "multi-part")

d = "Apache-2.0.txt"
dq("apache-11", d, "If I send a bug fix to an Apache-licensed project, is my patch automatically under the same licence?", "5. Submission of Contributions", ["without any additional terms or conditions"])
dq("apache-12", d, "Can I put my own licence terms on the changes I made to Apache-licensed code?", "4. Redistribution", ["different license terms"])

d = "GPL-3.txt"
dq("gpl3-11", d, "Do I need permission to use GPL code in our closed-source product that we sell to customers?", "5. Conveying Modified Source Versions", ["entire work"])
dq("gpl3-12", d, "We only run a GPL program on our own servers and never give it to anyone. Do we have to publish our changes?", "2. Basic Permissions", ["do not convey"])
dq("gpl3-13", d, "Can a company sell a gadget with GPL-3 software on it but lock it so I can't install my own modified version?", "6. Conveying Non-Source Forms", ["Installation Information"])
dq("gpl3-14", d, "Can I add a 'no commercial use' condition when I pass on GPL code?", "10. Automatic Licensing of Downstream Recipients", ["further restrictions"])

d = "LGPL-3.txt"
dq("lgpl3-11", d, "Can our closed-source app use an LGPL library, and under what terms can we ship it?", "4. Combined Works", ["terms of your choice"])
dq("lgpl3-12", d, "I changed an LGPL library so it calls a function that my app has to provide. Can I still share it under the LGPL?", "2. Conveying Modified Versions", ["good faith effort"])

d = "MPL-2.0.txt"
dq("mpl2-11", d, "Can I mix a few MPL files into my proprietary program and sell the whole thing?", "3.3. Distribution of a Larger Work", ["Larger Work"])
dq("mpl2-12", d, "Can I delete the copyright headers from MPL source files I ship?", "3.4. Notices", ["remove or alter"])

d = "GFDL-1.3.txt"
dq("gfdl-11", d, "How long can the text on the front cover of a GFDL manual be?", "1. APPLICABILITY AND DEFINITIONS", ["5 words"], "25 words for a Back-Cover Text in the same sentence")
dq("gfdl-12", d, "Can I put copy protection (DRM) on copies of a GFDL manual that I sell?", "2. VERBATIM COPYING", ["technical measures"])

d = "grep-manual.txt"
dq("grep-01", d, "How do I make grep ignore upper and lower case?", "2.1.2 Matching Control", ["ignore-case"])
dq("grep-02", d, "How can I show only the lines that do NOT contain a word?", "2.1.2 Matching Control", ["invert-match"])
dq("grep-03", d, "How do I match a whole word only, so that 'cat' doesn't match 'concatenate'?", "2.1.2 Matching Control", ["word-regexp"])
dq("grep-04", d, "I only want the names of the files that contain a match, not the lines. Which option is that?", "2.1.3 General Output Control", ["files-with-matches"], "-L (files without match) just above")
dq("grep-05", d, "When I show lines around matches, grep prints '--' between the groups. How do I change or get rid of that?", "2.1.5 Context Line Control", ["group-separator"])
dq("grep-06", d, "How do I skip the node_modules folder when I search a whole directory tree?", "2.1.6 File and Directory Selection", ["exclude-dir"])
dq("grep-07", d, "I put GREP_OPTIONS in my .bashrc but grep ignores it. Why?", "2.2 Environment Variables", ["no longer supported"])
dq("grep-08", d, "My script checks grep's exit code. What does 1 mean, and what does 2 mean?", "2.3 Exit Status", ["no lines were selected", "error occurred"], "multi-part")
dq("grep-09", d, "What's the difference between grep -E and plain grep?", "2.4 ‘grep’ Programs", ["basic regular expressions", "extended regular expressions"])
dq("grep-10", d, "Is there a limit on the repeat count I can put in braces, like {1,50000}?", "3.7 Problematic Regular Expressions", ["32767"], "the portable POSIX limit 255 in the same item")

# (kind, collection, question, notes); kinds as above, numbered on after the first batch's
DEV_NONE = [
 ("ontopic", HB, "Are there showers at the office for people who cycle to work?", "on-topic, not covered by any document"),
 ("ontopic", HB, "Do I get a bonus if I refer a friend who gets hired?", "on-topic, not covered by any document"),
 ("ontopic", HB, "Can I take a sabbatical after a few years with the company?", "on-topic, not covered by any document"),
 ("ontopic", HB, "Does the company chip in for daycare for my kids?", "on-topic, not covered by any document"),
 ("ontopic", HB, "Will the company pay for my computer glasses?", "on-topic, overlaps 8.3 Workstation (screens, keyboards, chairs) but glasses are not mentioned"),
 ("ontopic", HB, "Which antivirus program is installed on our laptops?", "on-topic, overlaps 3.1 Company laptops (endpoint protection) but no product is named"),
 ("ontopic", HB, "What's the name of our CEO?", "on-topic, overlaps 7.1 Grievances (the Managing Director) but no person is named"),
 ("ontopic", HB, "What is the street address of the Utrecht office?", "on-topic, overlaps 2.2 Office opening hours but no address is given"),
 ("ontopic", HB, "Who is our data protection officer? I need a name, not an e-mail address.", "on-topic, overlaps section 8 of the IT policy (DPO e-mail) but no name is given"),
 ("ontopic", HB, "How much does the travel insurance pay out if my suitcase gets lost?", "on-topic, overlaps 8. Safety and insurance (lost luggage is covered) but no amount is given"),
 ("ontopic", HB, "What is the longest password I'm allowed to use?", "on-topic, overlaps 2.1 Passwords (minimum 14 characters) but no maximum is given"),
 ("ontopic", HB, "On which dates are this year's fire drills?", "on-topic, overlaps 8.2 Fire and evacuation (twice a year) but no dates are given"),
 ("ontopic", LIC, "How big is the fine in euros if I break the GPL?", "on-topic, overlaps GPL-3 8. Termination but no money penalty is given"),
 ("ontopic", LIC, "How many lines of code do I need to change before MPL code counts as my own work?", "on-topic, overlaps MPL-2.0 1.10 Modifications but no number of lines is given"),
 ("ontopic", MAN, "How do I search and replace text in all my files with grep?", "on-topic, not covered: the manual part describes no replacing"),
 ("ontopic", MAN, "In which version of grep was the -P option added?", "on-topic, overlaps 2.4 grep Programs (-P) but no version history is given"),
 ("ontopic", MAN, "Is grep faster than ripgrep?", "on-topic, not covered by the document"),
 ("ontopic", MAN, "How do I install grep on Windows?", "on-topic, overlaps 2.1.7 Other Options (MS-Windows text I/O) but installation is not described"),
 ("offtopic", HB, "Who is the current CEO of Microsoft?", "off-topic general knowledge"),
 ("offtopic", HB, "How old is Taylor Swift?", "off-topic general knowledge"),
 ("offtopic", LIC, "In what year did Apple release the first iPhone?", "off-topic general knowledge"),
 ("offtopic", LIC, "Which company makes the PlayStation?", "off-topic general knowledge"),
 ("offtopic", LIC, "How many bones are there in the adult human body?", "off-topic general knowledge"),
 ("offtopic", MAN, "Who was the first president of the United States?", "off-topic general knowledge"),
 ("offtopic", MAN, "What is the tallest building in the world?", "off-topic general knowledge"),
]

COLL = {"employee-handbook.md": HB, "travel-and-expenses-policy.txt": HB, "it-security-policy.html": HB,
        "grep-manual.txt": MAN}
rng = random.Random(20261201)
rows = []


def halves(items):
    ids = list(items)
    rng.shuffle(ids)
    cut = (len(ids) + 1) // 2
    return {x: ("dev" if i < cut else "test") for i, x in enumerate(ids)}


docs = []
for a in A:
    if a[1] not in docs:
        docs.append(a[1])
split = {}
for doc in docs:
    split.update(halves([a[0] for a in A if a[1] == doc]))
for qid, doc, question, gold, kws, notes in A:
    rows.append({"id": qid, "split": split[qid], "document": doc, "collection": COLL.get(doc, LIC), "question": question,
                 "answerable": True, "gold_section": gold, "keywords": kws, "notes": notes})
for kind, items in (("ontopic", ON), ("offtopic", OFF)):
    ids = [f"none-{kind}-{i + 1:02d}" for i in range(len(items))]
    sp = halves(ids)
    for qid, (coll, question) in zip(ids, items):
        rows.append({"id": qid, "split": sp[qid], "document": None, "collection": coll, "question": question,
                     "answerable": False, "gold_section": None, "keywords": [],
                     "notes": "on-topic, not covered by any document" if kind == "ontopic" else "off-topic general knowledge"})
for qid, doc, question, gold, kws, notes in DEV_A:
    rows.append({"id": qid, "split": "dev", "document": doc, "collection": COLL.get(doc, LIC), "question": question,
                 "answerable": True, "gold_section": gold, "keywords": kws, "notes": notes})
numbered = {"ontopic": len(ON), "offtopic": len(OFF)}
for kind, coll, question, notes in DEV_NONE:
    numbered[kind] += 1
    rows.append({"id": f"none-{kind}-{numbered[kind]:02d}", "split": "dev", "document": None, "collection": coll,
                 "question": question, "answerable": False, "gold_section": None, "keywords": [], "notes": notes})
with open(sys.argv[1], "w") as out:
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
print(len(rows))
