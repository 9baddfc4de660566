"""The headers of the privacy export's CSVs, verbatim: the play activity's of each year, the daily tracks'."""

from __future__ import annotations

_V2018 = (
    "Event Start Timestamp, Event End Timestamp, Song Name, Artist Name, Container Name, Event Received "
    "Timestamp, Play Duration Milliseconds, Media Duration In Milliseconds, End Position In Milliseconds, "
    "End Reason Type, Apple Id Number, Device Identifier, Metrics Client Id, Metrics Bucket Id, Client IP "
    "Address, Feature Name, Media Type, Milliseconds Since Play, Offline, Apple Music Subscription, Source "
    "Type, Start Position In Milliseconds, Item Type, UTC Offset In Seconds, Event Type, Event Reason Hint "
    "Type, Build Version, Store Country Name"
).split(", ")
_V2019_08 = (
    "Apple Id Number, Apple Music Subscription, Artist Name, Build Version, Client IP Address, Content Name, "
    "Content Provider, Content Specific Type, Device Identifier, End Position In Milliseconds, End Reason "
    "Type, Event End Timestamp, Event Reason Hint Type, Event Received Timestamp, Event Start Timestamp, "
    "Event Type, Feature Name, Genre, Item Type, Media Duration In Milliseconds, Media Type, Metrics Bucket "
    "Id, Metrics Client Id, Milliseconds Since Play, Offline, Original Title, Play Duration Milliseconds, "
    "Source Type, Start Position In Milliseconds, Store Country Name, UTC Offset In Seconds"
).split(", ")
_V2023 = (
    "Album Name, Apple ID Number, Apple Music Subscription, Auto Play, Build Version, Bundle Version, "
    "Camera Option, Client Build Version, Client Device Name, Client IP Address, Client Platform, "
    "Container Album Name, Container Artist Name, Container Global Playlist ID, Container ID, "
    "Container iTunes Playlist ID, Container Library ID, Container Name, Container Origin Type, "
    "Container Personalized ID, Container Playlist ID, Container Radio Station ID, Container Radio "
    "Station Version, Container Season ID, Container Type, Contingency, Device App Name, Device App "
    "Version, Device Identifier, Device OS Name, Device OS Version, Device Type, Display Count, "
    "Display Language, Display Type, End Position In Milliseconds, End Reason Type, Evaluation "
    "Variant, Event End Timestamp, Event ID, Event Post Date Time, Event Reason Hint Type, Event "
    "Received Timestamp, Event Start Timestamp, Event Timestamp, Event Type, Feature Name, Grouping, "
    "House ID, IP City, IP Country Code, IP Latitude, IP Longitude, IP Network, IP Network Type, IP "
    "Region Code, Is CMA Station, Is Collaborative, Is Delegated, Is Heatseeker Station, Is Heavy "
    "Rotation Station, Is Royalty, Is Vocal Attenuation, Item Type, Key Request, Lease Limit, Legacy "
    "Container Name, Legacy Playback ID, Local Radio Station ID, Local Radio Station TuneIn ID, "
    "Matched Content, Media Bundle App Name, Media Bundle Type, Media Duration In Milliseconds, Media "
    "Type, Metrics Client ID, Milliseconds Since Play, Offline, Ownership Type, Personalized Name, "
    "Play Duration Milliseconds, Provided Audio Bit Depth, Provided Audio Channel, Provided Audio "
    "Sample Rate, Provided Bit Rate, Provided Codec, Provided Playback Format, Provider ID, Radio "
    "Format, Radio Seed ID, Radio Station Country, Radio Station ID, Radio Station Position, Radio "
    "Type, Radio User ID, Referral ID, Repeat Play, Report Type, Session Is Shared, Shared Activity "
    "Devices-Current, Shared Activity Devices-Max, Shuffle Play, Siri Request, Song Name, Source "
    "Model, Source Radio Name, Source Radio Type, Source Type, Start Position In Milliseconds, Store "
    "Front Name, Subscribed State, Subscription Discovery Mode, Use Listening History, User\u2019s "
    "Audio Quality, User\u2019s Playback Format, UTC Offset In Seconds, Vocal Attenuation Duration, "
    "Vocal Attenuation Model ID"
).split(", ")
_V2019_03 = [c for c in reversed(_V2019_08) if c != "Event Type"]  # 30, in an order of its own
_V2021 = sorted(
    [
        "Apple ID Number"
        if c == "Apple Id Number"
        else "Store Front Name"
        if c == "Store Country Name"
        else c
        for c in _V2019_08
        if c not in ("Content Name", "Genre", "Content Provider", "Content Specific Type", "Original Title")
    ]
    + ["Song Name", "Provided Audio Bit Depth", "Provided Audio Channel", "Provided Audio Sample Rate"]
    + ["Provided Bit Rate", "Provided Codec", "Provided Playback Format", "Session Is Shared"]
    + ["Shared Activity Devices-Current", "Shared Activity Devices-Max"]
    + ["User\u2019s Audio Quality", "User\u2019s Playback Format"],
    key=str.casefold,
)
#: the play-activity header of each variant, verbatim
HEADERS: dict[str, list[str]] = {
    "2018": _V2018,
    "2019-03": _V2019_03,
    "2019-05": [*_V2019_03, "Event Type"],
    "2019-08": _V2019_08,
    "2021": _V2021,
    "2023": _V2023,
    "2025": sorted(_V2023 + [f"Unnamed Field {n:02d}" for n in range(27)], key=str.casefold),
}
VARIANTS = tuple(HEADERS)
DAILY_HEADER = (
    "Country, Track Identifier, Media type, Date Played, Hours, Play Duration Milliseconds, End Reason Type, "
    "Source Type, Play Count, Skip Count, Ignore For Recommendations, Track Reference, Track Description"
).split(", ")
